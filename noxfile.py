"""The support matrix. ``nox`` runs it all; ``nox -s "tests-3.12(django='6.1', wagtail='8.0')"``
runs one cell. ``make test`` stays the quick default (the machine's Python 3.11)."""

import nox

nox.options.reuse_existing_virtualenvs = True

MATRIX = [
    ("3.11", "5.2", "7.0"),
    ("3.11", "5.2", "8.0"),
    ("3.12", "6.1", "8.0"),
]


@nox.session
@nox.parametrize("python,django,wagtail", MATRIX)
def tests(session, django, wagtail):
    session.install("-e", ".[test,redis]")
    session.install(f"django~={django}.0", f"wagtail~={wagtail}.0")
    session.run("python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", *session.posargs)


@nox.session(python="3.11")
def postgres(session):
    """The suite on PostgreSQL (Debian's server, started by scripts/postgres.sh)."""
    session.install("-e", ".[test,redis]", "psycopg[binary]")
    url = session.run("bash", "scripts/postgres.sh", silent=True).strip().splitlines()[-1]
    session.run(
        "python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", *session.posargs,
        env={"DATABASE_URL": url},
    )

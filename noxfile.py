"""The support matrix. ``nox`` runs it all;
``nox -s "tests(python='3.12', django='6.1', wagtail='8.0')"`` runs one cell (``nox -l`` lists
them); ``nox -s postgres`` runs the suite on PostgreSQL. ``make test`` stays the quick default
(the machine's Python 3.11); ``make matrix`` runs this file."""

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]  # postgres needs a server: ask for it by name

MATRIX = [
    ("3.11", "5.2", "7.0"),
    ("3.11", "5.2", "8.0"),
    ("3.12", "6.1", "8.0"),
]

PYTEST = ("python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider")


@nox.session
@nox.parametrize("python,django,wagtail", MATRIX)
def tests(session, django, wagtail):
    # One install, so the resolver picks the project's dependencies for the pinned Django and
    # Wagtail (a second install after ".[test]" could leave a dependency built for another).
    session.install("-e", ".[test,redis]", f"django~={django}.0", f"wagtail~={wagtail}.0")
    session.run(*PYTEST, *session.posargs)


@nox.session(python="3.11")
def postgres(session):
    """The suite on PostgreSQL (Debian's server, a throwaway cluster from scripts/postgres.sh)."""
    session.install("-e", ".[test,redis]", "psycopg[binary]")
    lines = session.run("bash", "scripts/postgres.sh", silent=True, external=True).splitlines()
    pgdata, url = lines[-2].removeprefix("PGDATA="), lines[-1]
    try:
        session.run(*PYTEST, *session.posargs, env={"DATABASE_URL": url})
    finally:
        session.run("bash", "scripts/postgres.sh", "stop", pgdata, external=True)

"""The support matrix. ``nox`` runs every cell; ``nox -s tests postgres`` adds the PostgreSQL
run (``make matrix`` does that); ``nox -s "tests(py312_django61_wagtail80)"`` runs one cell
(``nox -l`` lists them). ``make test`` stays the quick default
(the machine's Python 3.11); ``make matrix`` runs this file with every interpreter on PATH
(scripts/pythons.sh finds pyenv's)."""

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]  # postgres needs a server: ask for it by name
# A cell whose Python is missing fails instead of being skipped: the matrix is the promise.
nox.options.error_on_missing_interpreters = True

MATRIX = [
    nox.param(python, django, wagtail,
              id=f"py{python.replace('.', '')}_django{django.replace('.', '')}_wagtail{wagtail.replace('.', '')}")
    for python, django, wagtail in (
        ("3.11", "5.2", "7.0"),
        # The same versions as `make test`'s .venv: .ci/run leaves this cell out (-k).
        ("3.11", "5.2", "8.0"),
        ("3.12", "6.1", "8.0"),
        ("3.13", "6.1", "8.0"),
    )
]

PYTEST = ("python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider")

# On the newest Django, what Django or Wagtail deprecates is what their next releases remove:
# there the suite fails on such a warning instead of listing it.
DEPRECATIONS_AS_ERRORS = tuple(
    arg
    for category in (
        "django.utils.deprecation.RemovedInNextVersionWarning",
        "django.utils.deprecation.RemovedAfterNextVersionWarning",
        "wagtail.utils.deprecation.RemovedInWagtail90Warning",
        "wagtail.utils.deprecation.RemovedInWagtail100Warning",
    )
    for arg in ("-W", f"error::{category}")
)
STRICT_DJANGO = {"6.1"}


@nox.session
@nox.parametrize("python,django,wagtail", MATRIX)
def tests(session, django, wagtail):
    # One install, so the resolver picks the project's dependencies for the pinned Django and
    # Wagtail (a second install after ".[test]" could leave a dependency built for another).
    session.install("-e", ".[test,redis]", f"django~={django}.0", f"wagtail~={wagtail}.0")
    strict = DEPRECATIONS_AS_ERRORS if django in STRICT_DJANGO else ()
    session.run(*PYTEST, *strict, *session.posargs)


@nox.session(python="3.11")
def postgres(session):
    """The suite on PostgreSQL (Debian's server, a throwaway cluster from scripts/postgres.sh)."""
    session.install("-e", ".[test,redis]")
    lines = session.run("bash", "scripts/postgres.sh", silent=True, external=True).splitlines()
    pgdata, url = lines[-2].removeprefix("PGDATA="), lines[-1]
    try:
        session.run(*PYTEST, *session.posargs, env={"DATABASE_URL": url})
    finally:
        session.run("bash", "scripts/postgres.sh", "stop", pgdata, external=True)


@nox.session(python="3.11")
@nox.parametrize("wagtail", [nox.param("7.0", id="wagtail70"), nox.param("8.0", id="wagtail80")])
def localize(session, wagtail):
    """Sync and the block with wagtail-localize installed (tests/test_localize.py), on both
    supported Wagtail releases. A session of its own: wagtail-localize changes the admin for
    every test that runs beside it, so the main suite stays without it."""
    session.install("-e", ".[test]", "wagtail-localize", f"wagtail~={wagtail}.0")
    session.run(
        *PYTEST, "--ds", "tests.settings_localize",
        "tests/test_localize.py", "tests/test_languages.py", *session.posargs,
    )

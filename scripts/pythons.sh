#!/usr/bin/env bash
# Print a PATH prefix (empty, or directories each followed by ":") under which `python3.X` runs for every version given (nox looks each
# session's interpreter up on PATH). A version that already runs from PATH needs nothing; one
# that pyenv has installed but not activated (its shim then refuses) is found under
# $PYENV_ROOT/versions; otherwise pyenv is asked to install it. Fails, naming the version, when
# none of that works, so a matrix cell is never silently skipped.
set -euo pipefail
root=${PYENV_ROOT:-$HOME/.pyenv}
prefix=()
for version in "$@"; do
    if "python$version" -c "" >/dev/null 2>&1; then
        continue
    fi
    found=$(ls -d "$root"/versions/"$version".*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$found" ] && command -v pyenv >/dev/null 2>&1; then
        echo "Installing Python $version with pyenv" >&2
        pyenv install --skip-existing "$version" >&2 || true
        found=$(ls -d "$root"/versions/"$version".*/bin 2>/dev/null | sort -V | tail -1 || true)
    fi
    if [ -z "$found" ] || ! "$found/python$version" -c "" >/dev/null 2>&1; then
        echo "Python $version is missing: install it (pyenv install $version, or your package manager)" >&2
        exit 1
    fi
    prefix+=("$found")
done
for dir in ${prefix[@]+"${prefix[@]}"}; do printf '%s:' "$dir"; done
echo

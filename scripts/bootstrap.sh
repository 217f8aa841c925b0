#!/usr/bin/env bash
# Create .venv with Python 3.11, 3.12 or 3.13, whichever the machine has ($PYTHON if set, else
# python3 when it is one of them, else the newest python3.1x found), and install into it the
# pinned, hashed dependencies of requirements/dev.lock (runtime + dev extra, written by
# `make lock`), then the project itself.
#
# Idempotent: an existing, working .venv is reused, and `pip install` runs again only when
# requirements/dev.lock or pyproject.toml has changed since the last successful install (their
# hash is kept in a stamp file inside .venv).
#
# Then puts the pinned plotly.js bundle the chart pages load under static/vendor/ (fetched from
# the npm registry and checked by scripts/vendor_plotly.py, only when it is not there already),
# and compiles the German and Spanish catalogs under locale/ (scripts/compile_messages.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUPPORTED="3.11 3.12 3.13"
VENV="$ROOT/.venv"
STAMP="$VENV/.plantops-installed"
LOCK="$ROOT/requirements/dev.lock"
export DEBIAN_FRONTEND=noninteractive

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

apt_install() {
    command -v apt-get >/dev/null || die "the packages $* are missing and this is not Debian/Ubuntu: install them by hand"
    say "installing Debian packages: $*"
    as_root apt-get update || say "warning: apt-get update failed; trying with the package lists we have"
    as_root apt-get install -y "$@" </dev/null
}

# Whether the interpreter $1 is one of the supported versions.
supported() {
    local version
    version="$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || return 1
    [[ " $SUPPORTED " == *" $version "* ]]
}

find_python() {
    local candidate
    if [[ -n "${PYTHON:-}" ]]; then
        supported "$PYTHON" || die "PYTHON=$PYTHON is not Python ${SUPPORTED// /, }"
        return
    fi
    for candidate in python3 python3.13 python3.12 python3.11; do
        if command -v "$candidate" >/dev/null && supported "$candidate"; then
            PYTHON="$candidate"
            return
        fi
    done
    # Debian 12 and 13 and Ubuntu 24.04 ship one of the supported versions as python3.
    apt_install python3 python3-venv
    supported python3 || die "no Python ${SUPPORTED// /, } found: install one of them"
    PYTHON=python3
}

ensure_python() {
    find_python
    say "using $("$PYTHON" --version) ($(command -v "$PYTHON"))"
    # Debian splits venv/ensurepip into a separate package; without it `python3 -m venv` fails.
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        apt_install python3-venv "$(basename "$("$PYTHON" -c 'import sys; print(sys.executable)')")-venv"
    fi
}

venv_works() {
    [[ -x "$VENV/bin/python" ]] && supported "$VENV/bin/python"
}

ensure_venv() {
    if venv_works; then
        return
    fi
    if [[ -e "$VENV" ]]; then
        say "$VENV is not a working Python ${SUPPORTED// /, } environment: recreating it"
    else
        say "creating $VENV"
    fi
    "$PYTHON" -m venv --clear "$VENV"
    rm -f "$STAMP"
}

ensure_installed() {
    local want have=""
    [[ -f "$LOCK" ]] || die "$LOCK is missing: run 'make lock' to write it from pyproject.toml"
    want="$(cat "$LOCK" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    [[ -f "$STAMP" ]] && have="$(<"$STAMP")"
    if [[ "$want" == "$have" ]]; then
        say "$VENV is up to date with requirements/dev.lock and pyproject.toml"
        return
    fi
    say "installing requirements/dev.lock into $VENV"
    # Without --no-deps, so pip also proves the lock complete: a dependency it lacks is refused
    # for having no hash rather than fetched at whatever version the index has today.
    "$VENV/bin/python" -m pip install --disable-pip-version-check --require-hashes -r "$LOCK"
    say "installing the project into $VENV (pip install --no-deps -e .)"
    # No build isolation: the build uses the setuptools pinned in the lock, not one fetched now.
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --disable-pip-version-check \
        --no-deps --no-build-isolation -e .)
    printf '%s\n' "$want" >"$STAMP"
}

main() {
    if ! venv_works; then
        ensure_python
    fi
    ensure_venv
    ensure_installed
    "$VENV/bin/python" "$ROOT/scripts/vendor_plotly.py"
    "$VENV/bin/python" "$ROOT/scripts/compile_messages.py"
}

main "$@"

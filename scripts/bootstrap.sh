#!/usr/bin/env bash
# Create .venv with Python 3.11 and install into it the pinned, hashed dependencies of
# requirements/dev.lock (runtime + dev extra, written by `make lock`), then the project itself.
#
# Idempotent: an existing, working .venv is reused, and `pip install` runs again only when
# requirements/dev.lock or pyproject.toml has changed since the last successful install (their
# hash is kept in a stamp file inside .venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
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

ensure_python() {
    command -v "$PYTHON" >/dev/null ||
        die "$PYTHON not found: install Python 3.11 (Debian 12: apt-get install python3.11)"
    # Debian splits venv/ensurepip into a separate package; without it `python3.11 -m venv` fails.
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        apt_install python3.11-venv
    fi
}

venv_works() {
    [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null
}

ensure_venv() {
    if venv_works; then
        return
    fi
    if [[ -e "$VENV" ]]; then
        say "$VENV is not a working Python 3.11 environment: recreating it"
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
}

main "$@"

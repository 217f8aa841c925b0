"""The collected static files the tests serve, made once per change of what goes into them.

The tests run without DEBUG, as a deployment does, so pages name static files through
collectstatic's manifest: the test client and every daphne a test starts need a collection.
Making one takes several seconds (brotli), so each is kept under var/collected-static/, named
by a fingerprint of its inputs: the project's static files, settings.py and the installed
packages. A collection is built in a directory of its own and renamed into place, so a run in
another shell never reads half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "collected-static"
BUNDLE = ROOT / "static" / "vendor" / "plotly" / "plotly-basic.min.js"
# A collection no run has started with for this long is removed (each is about 14 MB): longer
# than a whole `make test`, so none is removed under a run still serving it.
UNUSED_FOR_S = 3 * 3600


def fingerprint() -> str:
    """Return a digest of everything a collection is made from."""
    digest = hashlib.sha256()
    for base in [ROOT / "static", *sorted((ROOT / "plantops").glob("*/static"))]:
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update((ROOT / "plantops" / "settings.py").read_bytes())
    packages = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()[:16]


def collected_static_root() -> Path:
    """Return a complete collection of the static files as they are now, making it if needed."""
    if not BUNDLE.exists():  # scripts/bootstrap.sh fetches it; a bare `pytest` may come first
        subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_plotly.py")], check=True)
    target = CACHE / fingerprint()
    if not target.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(CACHE / ".lock", "w") as lock:
            # One collection at a time: a run that waited here finds the other's done.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not target.is_dir():
                _collect_into(target)
        _remove_unused(keep=target)
    os.utime(target)
    return target


def _collect_into(target: Path) -> None:
    building = Path(tempfile.mkdtemp(dir=CACHE, prefix=".building-"))
    # Always without DEBUG, whatever the shell has: the manifest and compressed copies are made
    # only then, and the fingerprint does not read the environment.
    env = dict(
        os.environ,
        STATIC_ROOT=str(building),
        DJANGO_SETTINGS_MODULE="plantops.settings",
        DEBUG="0",
    )
    env.setdefault("SECRET_KEY", "collectstatic")
    print("==> collecting the static files for the tests (once per change)", file=sys.stderr)
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        building.rename(target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _remove_unused(*, keep: Path) -> None:
    cutoff = time.time() - UNUSED_FOR_S
    for path in CACHE.iterdir():
        if path.is_dir() and path != keep and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)

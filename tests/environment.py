"""Loaded by pytest before Django reads its settings (`-p tests.environment` in pyproject).

The test servers speak plain HTTP on loopback, as `scripts/test.sh` sets too; the secure
defaults are checked in a process of their own (tests/core/test_deploy.py).

Under pytest-xdist (`make test` runs a worker per core) each worker is a plant of its own:
pytest-django gives it its own database, and this gives it its own Redis database, channel
prefix, Celery queue and share group, and a Mosquitto of its own started with the project's
configuration. An ingest process subscribes to every telemetry topic of its broker, so two
workers on one broker would store each other's readings (or dead-letter them).

The static files are collected once per change of them, before any worker starts, and every
worker and process a test starts serves that collection (tests/static_files.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("INSECURE_HTTP", "1")

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_broker: subprocess.Popen | None = None
_broker_dir: Path | None = None


def _own_redis_database(url: str, worker_number: int) -> str:
    """The Redis URL with database 15 − n for worker n (15 is the suite's own, 14, 13, …)."""
    base, _, database = url.rpartition("/")
    first = int(database) if database.isdigit() else 15
    return f"{base}/{first - worker_number}"


def _start_broker() -> str:
    """Start a Mosquitto with scripts/mosquitto.conf on a free port; return its URL once it
    listens."""
    global _broker, _broker_dir
    from tests.broker import render_mosquitto_conf

    _broker_dir = Path(tempfile.mkdtemp(prefix=f"plantops-{WORKER}-mosquitto-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = _broker_dir / "mosquitto.conf"
    conf.write_text(render_mosquitto_conf(port=port, data_dir=_broker_dir))
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    _broker = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"mqtt://127.0.0.1:{port}"
        if _broker.poll() is not None or time.monotonic() > deadline:
            log = (_broker_dir / "mosquitto.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{WORKER}: the worker's Mosquitto did not listen on {port}: {log}")
        time.sleep(0.05)


if not WORKER:
    # Before Django reads its settings; xdist's workers inherit it (tests/static_files.py).
    from tests.static_files import collected_static_root

    os.environ["STATIC_ROOT"] = str(collected_static_root())
    # The catalogs' .mo files, which a checkout does not carry, before any worker reads them.
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve().parent.parent / "scripts/compile_messages.py"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )

if WORKER:
    number = int(WORKER.removeprefix("gw"))
    os.environ["REDIS_URL"] = _own_redis_database(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"), number
    )
    for name in ("CHANNELS_PREFIX", "CELERY_QUEUE", "MQTT_SHARE_GROUP"):
        os.environ[name] = f"{os.environ.get(name, 'plantops-test')}-{WORKER}"
    os.environ["MQTT_URL"] = _start_broker()


def pytest_unconfigure(config) -> None:
    if _broker is not None and _broker.poll() is None:
        _broker.terminate()
        _broker.wait(timeout=10)
    if _broker_dir is not None:
        shutil.rmtree(_broker_dir, ignore_errors=True)

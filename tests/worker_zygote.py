"""Start real Celery workers in tens of milliseconds, so a test can kill hundreds of them.

Run as `python -m tests.worker_zygote QUEUE` with the environment of a worker (DATABASE_URL,
CELERY_BROKER_URL, ...). It imports Django, the Celery app and every task once, then forks a
worker for each command on its standard input: the same worker `celery worker --pool solo`
runs (same settings, same bootsteps, connections of its own), without paying for the imports
again. One worker runs at a time:

    start                     → ready <pid>   (it consumes)  ...  dead <pid> <signal>
    start aimed <N> <DELAY_US> → the same; the worker SIGKILLs itself DELAY_US µs after the
                                 N-th batch it stores, as it acknowledges that batch and takes
                                 the next: a kill aimed at the hand-off between two batches
    stop (or end of input)    → the zygote exits

A plain worker is killed by whoever started it (`kill -9 <pid>`); `dead` follows. The aimed
kill is a POSIX timer armed when the batch's task returns, so no Python code of the worker runs
when it fires, as with a SIGKILL sent from outside. Workers log to standard error, each line
with its pid; the protocol goes to standard output.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys

CLOCK_MONOTONIC = 1
# What a worker imports as it starts, besides the broker's transport.
WORKER_MODULES = [
    "celery.apps.worker",
    "celery.concurrency.solo",
    "celery.worker.autoscale",
    "celery.worker.components",
    "celery.worker.consumer",
    "celery.worker.control",
    "celery.worker.heartbeat",
    "celery.worker.loops",
    "celery.worker.pidbox",
    "celery.worker.request",
    "celery.worker.strategy",
    "kombu.asynchronous",
    "kombu.pidbox",
]
SIGEV_SIGNAL = 0


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class _Sigevent(ctypes.Structure):
    # struct sigevent on Linux: the value, the signal, how to notify, then 48 bytes of union.
    _fields_ = [
        ("sigev_value", ctypes.c_void_p),
        ("sigev_signo", ctypes.c_int),
        ("sigev_notify", ctypes.c_int),
        ("_rest", ctypes.c_byte * 48),
    ]


def sigkill_after(delay_us: int) -> None:
    """Have the kernel send this process SIGKILL in `delay_us` microseconds."""
    libc = ctypes.CDLL(None, use_errno=True)
    timer = ctypes.c_void_p()
    event = _Sigevent(sigev_signo=signal.SIGKILL, sigev_notify=SIGEV_SIGNAL)
    if libc.timer_create(CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(timer)) != 0:
        raise OSError(ctypes.get_errno(), "timer_create")
    when = _Itimerspec(it_value=_Timespec(delay_us // 1_000_000, delay_us % 1_000_000 * 1000))
    if libc.timer_settime(timer, 0, ctypes.byref(when), None) != 0:
        raise OSError(ctypes.get_errno(), "timer_settime")


def main(queue: str) -> None:
    import django

    django.setup()
    from celery.signals import task_postrun, worker_ready
    from django.db import connections

    from plantops.celery import app

    # What `celery worker` does before it starts consuming: import the tasks (and run Django's
    # checks) once here, not in every worker.
    app.loader.import_default_modules()
    app.finalize()
    for module in WORKER_MODULES:
        importlib.import_module(module)
    with app.connection_for_read() as connection:
        connection.transport  # noqa: B018 - imports the broker's transport; connects to nothing
    # Every line names the worker's pid: the workers share one log.
    app.conf.worker_log_format = (
        "[%(asctime)s: %(levelname)s/%(processName)s/%(process)d] %(message)s"
    )
    connections.close_all()

    ready_read, ready_write = os.pipe()
    aim: dict[str, int] = {}

    @worker_ready.connect
    def _ready(**_kwargs) -> None:
        os.write(ready_write, f"{os.getpid()}\n".encode())

    @task_postrun.connect
    def _stored(sender=None, **_kwargs) -> None:
        if aim and sender is not None and sender.name == "telemetry.store_batch":
            aim["batches"] -= 1
            if aim["batches"] == 0:
                sigkill_after(aim["delay_us"])

    ready = os.fdopen(ready_read, "r")
    out = sys.stdout
    for n, line in enumerate(sys.stdin, start=1):
        command = line.split()
        if command == ["stop"]:
            break
        if command[:1] != ["start"]:
            raise SystemExit(f"unknown command {line!r}")
        if command[1:2] == ["aimed"]:
            aim.update(batches=int(command[2]), delay_us=int(command[3]))
        else:
            aim.clear()
        pid = os.fork()
        if pid == 0:
            _run_worker(app, queue, hostname=f"kill-{os.getppid()}-{n}@zygote")
        # The worker reports its pid once it consumes (a worker that died before that would
        # leave us waiting; the caller's timeout tells).
        out.write(f"ready {int(ready.readline())}\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        died_of = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        out.write(f"dead {pid} {died_of}\n")
        out.flush()


def _run_worker(app, queue: str, *, hostname: str) -> None:
    """In the forked child: run a worker until it is killed (or stops by itself)."""
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # The checks ran in the zygote: the same code, the same settings.
    os.environ["CELERY_SKIP_CHECKS"] = "1"
    try:
        worker = app.Worker(
            hostname=hostname,
            queues=[queue],
            pool_cls="solo",
            without_gossip=True,
            without_mingle=True,
            without_heartbeat=True,
            loglevel="INFO",
            quiet=True,
        )
        worker.start()
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])

"""Run several named commands together, like a tiny Procfile runner (stdlib only).

    PROCS_BANNER=TEXT python scripts/procs.py NAME=COMMAND [NAME=COMMAND ...]

Each COMMAND is split like a shell would split it (no pipes or variables) and started in its own
process group. Every line it prints appears prefixed with its NAME, coloured on a terminal.

Everything stops together: on Ctrl-C, SIGTERM or SIGHUP, or as soon as any command exits, each
command is sent SIGTERM, given up to 10 seconds, and then its whole process group is killed.
A second Ctrl-C kills at once. Should this runner itself be killed outright, the kernel sends each
command SIGTERM (Linux). The exit status is 0 after a requested stop, and otherwise that of
the command that exited first (1 if it exited with 0).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

GRACE_S = 10.0
BANNER_DELAY_S = 4.0
COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93"]  # ANSI: cyan, yellow, magenta, ...
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_runner() -> Callable[[], None] | None:
    """Return a Popen preexec_fn that has the kernel SIGTERM the child when this runner dies.

    It covers what our own stop cannot: the runner being killed with SIGKILL. Linux only.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_parent_death_signal


@dataclass
class Proc:
    name: str
    argv: list[str]
    colour: str
    popen: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Output:
    """Writes whole lines to stdout under a lock, so lines from different commands never mix."""

    def __init__(self, width: int, use_colour: bool) -> None:
        self.width = width
        self.use_colour = use_colour
        self.lock = threading.Lock()

    def line(self, name: str, colour: str, text: str) -> None:
        prefix = f"{name:<{self.width}} | "
        if self.use_colour:
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self.lock:
            sys.stdout.write(prefix + text + "\n")
            sys.stdout.flush()

    def note(self, text: str) -> None:
        self.line("procs", "1", text)


class Runner:
    """Starts the commands, watches them, and stops them all when one ends or we are told to."""

    def __init__(self, procs: list[Proc], output: Output) -> None:
        self.procs = procs
        self.output = output
        self.stop_requested = threading.Event()
        self.kill_now = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            self.kill_now = True  # a second Ctrl-C: do not wait for the grace period
        self.stop_requested.set()

    def start(self) -> None:
        # Children print straight away instead of buffering a pipe's worth of output.
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        preexec_fn = die_with_runner()
        # Every command is started before any reader thread: preexec_fn is unsafe with threads.
        for proc in self.procs:
            # start_new_session: Ctrl-C in the terminal reaches only us; we stop the children
            # ourselves, and can kill a command's own children through its process group.
            proc.popen = subprocess.Popen(
                proc.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=preexec_fn,
            )
            self.output.note(f"started {proc.name} (pid {proc.popen.pid}): {shlex.join(proc.argv)}")
        for proc in self.procs:
            assert proc.popen is not None
            proc.reader = threading.Thread(
                target=self.copy_output, args=(proc, proc.popen.stdout), daemon=True
            )
            proc.reader.start()

    def copy_output(self, proc: Proc, stream: IO[bytes] | None) -> None:
        assert stream is not None
        for raw in iter(stream.readline, b""):
            self.output.line(proc.name, proc.colour, raw.decode(errors="replace").rstrip("\r\n"))
        stream.close()

    def first_exited(self) -> Proc | None:
        for proc in self.procs:
            if proc.popen is not None and proc.popen.poll() is not None:
                return proc
        return None

    def watch(self, banner: str | None) -> int:
        """Wait until a stop is requested or a command exits; return the exit status to use."""
        banner_at = time.monotonic() + BANNER_DELAY_S
        while not self.stop_requested.wait(0.2):
            exited = self.first_exited()
            if exited is not None:
                assert exited.popen is not None
                code = exited.popen.returncode
                self.output.note(f"{exited.name} exited with status {code}; stopping the others")
                return code if code > 0 else 1
            if banner and time.monotonic() >= banner_at:
                for text in banner.splitlines():
                    self.output.note(text)
                banner = None
        self.output.note("stopping everything (Ctrl-C again to kill at once)")
        return 0

    def stop(self) -> None:
        """SIGTERM each command, wait up to GRACE_S, then SIGKILL whatever is left of each group."""
        for proc in self.procs:
            if proc.popen is not None and proc.popen.poll() is None:
                send(proc.popen.pid, signal.SIGTERM, group=False)
        deadline = time.monotonic() + GRACE_S
        while time.monotonic() < deadline and not self.kill_now:
            if not any(self.group_alive(proc) for proc in self.procs):
                break
            time.sleep(0.1)
        for proc in self.procs:
            if self.group_alive(proc):
                assert proc.popen is not None
                self.output.note(f"{proc.name} did not stop in time: killing it")
                send(proc.popen.pid, signal.SIGKILL, group=True)
                proc.popen.wait()
        for proc in self.procs:
            if proc.reader is not None:
                proc.reader.join(timeout=2)
            if proc.popen is not None:
                self.output.note(f"{proc.name} stopped (status {proc.popen.returncode})")

    @staticmethod
    def group_alive(proc: Proc) -> bool:
        """True while the command, or anything it started in its process group, still runs."""
        if proc.popen is None:
            return False
        if proc.popen.poll() is None:
            return True
        try:
            os.killpg(proc.popen.pid, 0)  # the group outlives the leader while children remain
        except ProcessLookupError:
            return False
        return True


def send(pid: int, signum: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass


def parse_procs(specs: list[str]) -> list[Proc]:
    procs = []
    for index, spec in enumerate(specs):
        name, sep, command = spec.partition("=")
        if not sep or not name or not command.strip():
            raise SystemExit(f"procs: expected NAME=COMMAND, got {spec!r}")
        procs.append(Proc(name, shlex.split(command), COLOURS[index % len(COLOURS)]))
    return procs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procs", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)

    procs = parse_procs(args.procs)
    use_colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    output = Output(max(len("procs"), *(len(proc.name) for proc in procs)), use_colour)
    runner = Runner(procs, output)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, runner.on_signal)

    status = 1
    try:
        runner.start()
        # From the environment, not argv: the banner holds the demo passwords and `ps` shows argv.
        status = runner.watch(os.environ.pop("PROCS_BANNER", None))
    except OSError as error:  # a command that cannot be started at all
        output.note(f"cannot start: {error}")
    finally:
        runner.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())

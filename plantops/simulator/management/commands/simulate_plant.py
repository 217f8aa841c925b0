"""`manage.py simulate_plant`: publish a simulated plant over MQTT in the v1 wire contract.

`plantops.simulator.runner` reads the plant and publishes it, stepping the machine models of
`plantops.simulator.physics`; this command checks the options, turns SIGTERM and SIGINT into a
clean stop and reports.
"""

from __future__ import annotations

import math
import random
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plantops.simulator.physics import parse_fault
from plantops.simulator.runner import MIN_INTERVAL_S, PlantRunner, SimulationError


class Command(BaseCommand):
    help = (
        "Publish realistic telemetry, machine states and part counts for every asset in the "
        "database over MQTT (wire contract v1), with optional injected bearing faults."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--speedup",
            type=float,
            default=1.0,
            help="Simulated time runs this many times faster than wall time (default 1). "
            "Timestamps stay real wall-clock time.",
        )
        parser.add_argument(
            "--seed", type=int, help="Random seed; the same seed replays the plant."
        )
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="ASSET:bearing:DAYS[@AFTER]",
            help="Inject a bearing degradation that fails after DAYS simulated days, starting "
            "AFTER simulated days in (default 0). ASSET is a slug or site/area/line/asset. "
            "Repeatable.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            help="Seconds between readings for every signal "
            "(default: each signal's own sampling interval).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Publish one …/telemetry batch per asset per tick instead of one message "
            "per reading.",
        )
        parser.add_argument(
            "--duration", type=float, help="Stop after this many seconds (default: run forever)."
        )
        parser.add_argument(
            "--qos",
            type=int,
            choices=(0, 1),
            default=1,
            help="MQTT QoS (default 1: at least once, as ingest expects).",
        )
        parser.add_argument(
            "--assets", help="Comma-separated asset slugs (or paths) to simulate; default all."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        speedup: float = options["speedup"]
        interval: float | None = options["interval"]
        duration: float | None = options["duration"]
        if not (math.isfinite(speedup) and speedup > 0):
            raise CommandError("--speedup must be a positive number.")
        if interval is not None and not (math.isfinite(interval) and interval >= MIN_INTERVAL_S):
            raise CommandError(f"--interval must be at least {MIN_INTERVAL_S} seconds.")
        if duration is not None and not (math.isfinite(duration) and duration > 0):
            raise CommandError("--duration must be a positive number of seconds.")
        faults = self._parse_faults(options["fault"])
        seed = options["seed"]
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)

        runner = PlantRunner(
            seed=seed,
            speedup=speedup,
            interval=interval,
            duration=duration,
            batch=options["batch"],
            qos=options["qos"],
            assets=options["assets"],
            faults=faults,
            report=self.stdout.write,
            warn=self.stderr.write,
        )
        stop = threading.Event()
        try:
            outcome = runner.run(stop=stop, while_publishing=_stopping_on_signals(stop))
        except SimulationError as error:
            raise CommandError(str(error)) from None
        if outcome.unacked:
            self.stderr.write(f"{outcome.unacked} messages were not acknowledged by the broker.")
        if outcome.refused:
            self.stderr.write(f"The broker refused {outcome.refused} messages.")

    @staticmethod
    def _parse_faults(texts: Iterable[str]) -> list[tuple[str, str, float, float]]:
        faults = []
        for text in texts:
            try:
                faults.append(parse_fault(text))
            except ValueError as error:
                raise CommandError(f"--fault {text!r}: {error}") from None
        return faults


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """Make SIGTERM and SIGINT set `stop` inside the block; put the old handlers back after."""
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
        except ValueError:
            # Not the main thread (e.g. called from a test's worker thread): nothing to install.
            break
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

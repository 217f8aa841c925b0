"""Reader for NASA C-MAPSS turbofan files and the metrics used to score RUL predictions.

A C-MAPSS file (train_FD00x.txt, test_FD00x.txt) has one row per engine cycle and 26
space-separated numbers: unit, cycle, 3 operational settings, 21 sensors. Rows of one unit are
consecutive with cycles 1, 2, 3, … In a train file every unit runs to failure; in a test file
each series stops some time before failure and a truth file (RUL_FD00x.txt) gives, one per
line in unit order, the cycles that remained after the last row.

Pure: numpy only, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from plantops.health.rul import RulInterval, RulPrediction, UnitHistory

N_SETTINGS = 3
N_SENSORS = 21
N_COLUMNS = 2 + N_SETTINGS + N_SENSORS

__all__ = [
    "N_COLUMNS",
    "N_SENSORS",
    "N_SETTINGS",
    "interval_coverage",
    "interval_mean_width",
    "phm08_score",
    "read_truth",
    "read_units",
    "rmse",
    "truncate_unit",
]


def read_units(path: str | Path, *, failed: bool = True) -> list[UnitHistory]:
    """The file's units in file order, each with its settings and sensors, oldest cycle first.

    `failed` is True for a train file (each unit's last row is its failure) and False for a
    test file (each series stops before failure). Raises ValueError naming the line and the
    reason for a malformed file: a wrong number of columns, a value that is not a finite
    number, a unit or cycle that is not a positive integer, a unit that appears in two separate
    runs of rows, or cycles that do not count up 1, 2, 3, … within a unit. Raises OSError if the
    file cannot be read.
    """
    path = Path(path)
    units: list[UnitHistory] = []
    seen: set[int] = set()
    rows: list[list[float]] = []
    current: int | None = None

    def flush() -> None:
        if current is None:
            return
        data = np.asarray(rows, dtype=np.float64)
        units.append(
            UnitHistory(
                unit_id=str(current),
                settings=data[:, :N_SETTINGS],
                sensors=data[:, N_SETTINGS:],
                failed=failed,
            )
        )

    with path.open(encoding="utf-8", errors="strict") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != N_COLUMNS:
                raise ValueError(
                    f"{path.name} line {number}: expected {N_COLUMNS} space-separated numbers "
                    f"(unit, cycle, {N_SETTINGS} settings, {N_SENSORS} sensors), got {len(fields)}"
                )
            try:
                values = [float(field) for field in fields]
            except ValueError:
                bad = next(f for f in fields if not _is_float(f))
                raise ValueError(f"{path.name} line {number}: {bad!r} is not a number") from None
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{path.name} line {number}: values must be finite numbers")
            unit, cycle = values[0], values[1]
            if unit != int(unit) or unit < 1 or cycle != int(cycle) or cycle < 1:
                raise ValueError(
                    f"{path.name} line {number}: unit and cycle must be positive integers, "
                    f"got {fields[0]!r} and {fields[1]!r}"
                )
            unit_no, cycle_no = int(unit), int(cycle)
            if unit_no != current:
                if unit_no in seen:
                    raise ValueError(
                        f"{path.name} line {number}: unit {unit_no} appears again after other "
                        "units: a unit's rows must be consecutive"
                    )
                flush()
                seen.add(unit_no)
                current = unit_no
                rows = []
            if cycle_no != len(rows) + 1:
                raise ValueError(
                    f"{path.name} line {number}: unit {unit_no} cycle {cycle_no} follows cycle "
                    f"{len(rows)}: cycles must count up by one from 1"
                )
            rows.append(values[2:])
    flush()
    if not units:
        raise ValueError(f"{path.name}: no data rows")
    return units


def read_truth(path: str | Path) -> np.ndarray:
    """The true remaining cycles after each test unit's last row, one per unit in file order.

    Raises ValueError naming the line for a value that is not a non-negative number, and for a
    file without values. Raises OSError if the file cannot be read.
    """
    path = Path(path)
    values: list[float] = []
    with path.open(encoding="utf-8", errors="strict") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 1:
                raise ValueError(
                    f"{path.name} line {number}: expected one number (the true RUL), "
                    f"got {len(fields)} fields"
                )
            try:
                value = float(fields[0])
            except ValueError:
                raise ValueError(
                    f"{path.name} line {number}: {fields[0]!r} is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"{path.name} line {number}: the RUL must be a non-negative number, "
                    f"got {fields[0]!r}"
                )
            values.append(value)
    if not values:
        raise ValueError(f"{path.name}: no values")
    return np.asarray(values, dtype=np.float64)


def truncate_unit(unit: UnitHistory, n_steps: int) -> UnitHistory:
    """The first `n_steps` steps of `unit` as a still-running (censored) unit of the same id."""
    if not 1 <= n_steps <= len(unit.sensors):
        raise ValueError(f"n_steps must be between 1 and {len(unit.sensors)}, got {n_steps}")
    return UnitHistory(
        unit_id=unit.unit_id,
        settings=unit.settings[:n_steps],
        sensors=unit.sensors[:n_steps],
        failed=False,
    )


def rmse(predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> float:
    """The root-mean-square error of the predictions."""
    p, t = _pair(predicted, true)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def phm08_score(
    predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray
) -> float:
    """The PHM08 challenge score: the sum over units of exp(-d/13)-1 for d<0, exp(d/10)-1 for d≥0.

    d = predicted − true. Late predictions (d > 0) cost more than early ones; 0 is perfect.
    """
    p, t = _pair(predicted, true)
    d = p - t
    return float(np.sum(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))))


def interval_coverage(
    predictions: Sequence[RulPrediction] | Sequence[RulInterval],
    true: Sequence[float] | np.ndarray,
    confidence: float | None = None,
) -> float:
    """The fraction of true values inside their interval (bounds included).

    Pass intervals, or predictions together with the `confidence` whose interval to use.
    """
    low, high = _bounds(predictions, confidence)
    t = np.asarray(true, dtype=np.float64)
    if t.shape != low.shape:
        raise ValueError(f"{len(low)} intervals but {t.size} true values")
    return float(np.mean((t >= low) & (t <= high)))


def interval_mean_width(
    predictions: Sequence[RulPrediction] | Sequence[RulInterval],
    confidence: float | None = None,
) -> float:
    """The mean of high − low over the intervals (see `interval_coverage` for the arguments)."""
    low, high = _bounds(predictions, confidence)
    return float(np.mean(high - low))


def _bounds(
    items: Sequence[RulPrediction] | Sequence[RulInterval], confidence: float | None
) -> tuple[np.ndarray, np.ndarray]:
    if len(items) == 0:
        raise ValueError("no intervals")
    intervals: list[RulInterval] = []
    for item in items:
        if isinstance(item, RulPrediction):
            if confidence is None:
                raise ValueError("pass the confidence whose interval to use")
            intervals.append(item.interval(confidence))
        else:
            intervals.append(item)
    low = np.asarray([i.low for i in intervals], dtype=np.float64)
    high = np.asarray([i.high for i in intervals], dtype=np.float64)
    return low, high


def _pair(
    predicted: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.size == 0:
        raise ValueError("no predictions")
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predictions but {t.size} true values")
    return p, t


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

"""One machine's run as the remaining-life estimator reads it (`UnitHistory`): per step, its
operating-regime settings and health sensors, checked on the way in. Pure: numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["UnitHistory", "as_matrix"]


@dataclass(frozen=True, eq=False)
class UnitHistory:
    """One machine's run, oldest step first.

    `settings` has shape (n_steps, n_settings): the operating-regime inputs (speed, load,
    flight settings); it may have 0 columns. `sensors` has shape (n_steps, n_sensors): the
    health inputs of each step. `failed` is True when the last step is the failure (a run to
    failure, usable for fitting) and False for a machine still running (censored: usable only
    for prediction). Both arrays are stored as 2-D float64; a ValueError is raised for other
    shapes or for NaN and infinite values.
    """

    unit_id: str
    settings: np.ndarray
    sensors: np.ndarray
    failed: bool = True

    def __post_init__(self) -> None:
        sensors = as_matrix(self.sensors, f"unit {self.unit_id!r}: sensors")
        settings_in = self.settings
        if settings_in is None or (np.ndim(settings_in) == 1 and np.size(settings_in) == 0):
            settings_in = np.empty((sensors.shape[0], 0))
        settings = as_matrix(settings_in, f"unit {self.unit_id!r}: settings")
        if settings.shape[0] != sensors.shape[0]:
            raise ValueError(
                f"unit {self.unit_id!r}: settings have {settings.shape[0]} steps but sensors "
                f"have {sensors.shape[0]}"
            )
        if sensors.shape[1] == 0:
            raise ValueError(f"unit {self.unit_id!r}: sensors have no columns")
        object.__setattr__(self, "sensors", sensors)
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "unit_id", str(self.unit_id))
        object.__setattr__(self, "failed", bool(self.failed))

    @property
    def n_steps(self) -> int:
        """The number of steps in the history."""
        return int(self.sensors.shape[0])


def as_matrix(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers: {exc}") from exc
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (steps × columns), got shape {array.shape}")
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"{what} contain NaN or infinite values (first at step {row})")
    return array

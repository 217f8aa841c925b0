"""Operating regimes (`RegimeBands`): speed bands, and bands of mean current (the load proxy)
within each, learned from an asset's history; a window that touched standstill is `STOPPED` (-1)
and never scored. Pure: numpy only. See docs/health-model.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["STOPPED", "RegimeBands"]

# The band of a window that touched standstill.
STOPPED = -1


@dataclass(frozen=True, eq=False)
class RegimeBands:
    """Speed bands, and load (current) bands within each speed band, learned from history.

    Band ids run from 0 over the speed bands, lowest first, and within each over its load
    bands, lowest first; `STOPPED` (-1) is a window at or touching standstill. Speeds and
    loads beyond the learned range fall into the outermost bands.
    """

    stop_speed: float
    speed_edges: np.ndarray
    load_edges: tuple[np.ndarray, ...]
    speed_range: tuple[float, float]

    @classmethod
    def fit(
        cls,
        speed: np.ndarray,
        load: np.ndarray | None = None,
        *,
        speed_bands: int = 4,
        load_bands: int = 3,
        min_samples: int = 30,
        stop_fraction: float = 0.1,
    ) -> RegimeBands:
        """Return bands learned from regime inputs (one row per window or reading).

        Speeds below `stop_fraction` of the 99th-percentile speed count as standstill and
        are left out of the bands. `load` may be None or NaN where unknown.
        """
        speed = np.asarray(speed, dtype=float).ravel()
        load_arr = (
            np.full(speed.size, np.nan) if load is None else np.asarray(load, dtype=float).ravel()
        )
        if load_arr.shape != speed.shape:
            raise ValueError("speed and load differ in length")
        finite = np.isfinite(speed)
        if not finite.any():
            raise ValueError("cannot learn regimes without any speed")
        top = float(np.percentile(speed[finite], 99))
        if top <= 0:
            raise ValueError("cannot learn regimes: the machine never ran in this history")
        stop_speed = stop_fraction * top
        running = finite & (speed >= stop_speed)
        s, ld = speed[running], load_arr[running]
        n_speed = int(np.clip(s.size // max(min_samples, 1), 1, speed_bands))
        speed_edges = _quantile_edges(s, n_speed)
        speed_band = np.searchsorted(speed_edges, s, side="right")
        load_edges = []
        for b in range(speed_edges.size + 1):
            known = ld[(speed_band == b) & np.isfinite(ld)]
            n_load = int(np.clip(known.size // max(min_samples, 1), 1, load_bands))
            load_edges.append(_quantile_edges(known, n_load))
        return cls(
            stop_speed=stop_speed,
            speed_edges=speed_edges,
            load_edges=tuple(load_edges),
            speed_range=(float(s.min()), float(s.max())),
        )

    @property
    def n_bands(self) -> int:
        return sum(edges.size + 1 for edges in self.load_edges)

    def band_of(
        self,
        speed: np.ndarray | float,
        load: np.ndarray | float | None = None,
        *,
        min_speed: np.ndarray | float | None = None,
    ) -> np.ndarray:
        """Return the band id of each regime input (`STOPPED` at standstill).

        `min_speed` is each window's lowest speed: a window that touched standstill is
        `STOPPED` even when its mean speed is high. An unknown (NaN) load takes the middle
        load band of its speed band.
        """
        s = np.atleast_1d(np.asarray(speed, dtype=float))
        ld = np.full(s.shape, np.nan) if load is None else np.asarray(load, dtype=float)
        ld = np.broadcast_to(ld, s.shape)
        speed_band = np.searchsorted(self.speed_edges, s, side="right")
        offsets = np.cumsum([0] + [e.size + 1 for e in self.load_edges])
        band = np.empty(s.shape, dtype=np.int64)
        for b, edges in enumerate(self.load_edges):
            here = speed_band == b
            load_band = np.searchsorted(edges, ld[here], side="right")
            load_band[np.isnan(ld[here])] = edges.size // 2
            band[here] = offsets[b] + load_band
        stopped = ~(s >= self.stop_speed)  # NaN speed is no evidence of running
        if min_speed is not None:
            stopped |= np.broadcast_to(np.asarray(min_speed, dtype=float), s.shape) < (
                self.stop_speed
            )
        band[stopped] = STOPPED
        return band

    def describe(self, band: int) -> str:
        """Return a band in words: `speed 990–1150, load band 2 of 3`, or `stopped`."""
        if band == STOPPED:
            return "stopped"
        for b, edges in enumerate(self.load_edges):
            if band <= edges.size:
                low = self.speed_edges[b - 1] if b > 0 else self.speed_range[0]
                high = self.speed_edges[b] if b < self.speed_edges.size else self.speed_range[1]
                return f"speed {low:.4g}–{high:.4g}, load band {band + 1} of {edges.size + 1}"
            band -= edges.size + 1
        raise ValueError(f"no band {band}")

    def to_dict(self) -> dict[str, Any]:
        """Return the bands as a JSON-ready dict (`from_dict` reads it back)."""
        return {
            "stop_speed": self.stop_speed,
            "speed_edges": self.speed_edges.tolist(),
            "load_edges": [edges.tolist() for edges in self.load_edges],
            "speed_range": list(self.speed_range),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegimeBands:
        """Return the bands `to_dict` described."""
        return cls(
            stop_speed=float(data["stop_speed"]),
            speed_edges=np.asarray(data["speed_edges"], dtype=float),
            load_edges=tuple(np.asarray(e, dtype=float) for e in data["load_edges"]),
            speed_range=(float(data["speed_range"][0]), float(data["speed_range"][1])),
        )


def _quantile_edges(values: np.ndarray, n: int) -> np.ndarray:
    """Inner edges splitting `values` into `n` equal-count bands; ties merge bands."""
    if n <= 1 or values.size == 0:
        return np.empty(0)
    edges = np.unique(np.quantile(values, np.arange(1, n) / n))
    # An edge at the minimum would leave an empty band below it.
    return edges[edges > values.min()]

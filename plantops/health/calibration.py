"""The remaining-life estimator's interval calibration: out-of-fold residuals binned by the
predicted remaining life (Mondrian conformal), whose weighted quantiles widen a prediction into
an interval. Pure: numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Calibration", "weighted_quantile"]


@dataclass
class Calibration:
    """Out-of-fold residuals (true − predicted) in bins of predicted RUL (Mondrian conformal)."""

    edges: np.ndarray  # bin b holds predictions in [edges[b], edges[b + 1])
    residuals: list[np.ndarray]  # per bin, sorted
    cum_weights: list[np.ndarray]  # per bin, normalised cumulative weights

    @classmethod
    def of(
        cls, predicted: np.ndarray, residuals: np.ndarray, weights: np.ndarray, bins: int
    ) -> Calibration:
        n_bins = max(1, min(bins, predicted.size // 200))
        inner = np.quantile(predicted, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else []
        edges = np.unique(np.concatenate([[-np.inf], inner, [np.inf]]))
        which = np.searchsorted(edges[1:-1], predicted, side="right")
        sorted_residuals, cum_weights = [], []
        for b in range(edges.size - 1):
            mask = which == b
            order = np.argsort(residuals[mask], kind="stable")
            w = weights[mask][order]
            sorted_residuals.append(residuals[mask][order])
            cum_weights.append(np.cumsum(w) / w.sum())
        return cls(edges=edges, residuals=sorted_residuals, cum_weights=cum_weights)

    def quantile(self, predicted: float, q: float) -> float:
        """The q-quantile of the residuals in the bin of `predicted`."""
        b = int(np.searchsorted(self.edges[1:-1], predicted, side="right"))
        return weighted_quantile(self.residuals[b], self.cum_weights[b], q)

    def summary(self) -> list[dict[str, Any]]:
        """The bins, JSON-ready: their range of predictions, size and residual quantiles."""
        return [
            {
                "predicted_from": None if math.isinf(lo) else round(float(lo), 3),
                "predicted_to": None if math.isinf(hi) else round(float(hi), 3),
                "n": int(res.size),
                "residual_quantiles": {
                    f"{q:g}": round(weighted_quantile(res, cw, q), 3)
                    for q in (0.05, 0.1, 0.5, 0.9, 0.95)
                },
            }
            for lo, hi, res, cw in zip(
                self.edges[:-1], self.edges[1:], self.residuals, self.cum_weights, strict=True
            )
        ]


def weighted_quantile(sorted_values: np.ndarray, cum_weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches q (values sorted, weights normalised)."""
    if sorted_values.size == 0:
        return 0.0
    i = int(np.searchsorted(cum_weights, q - 1e-12, side="left"))
    return float(sorted_values[min(i, sorted_values.size - 1)])

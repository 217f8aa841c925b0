"""The C-MAPSS reader, the scoring metrics and the rul_benchmark command."""

from __future__ import annotations

import functools
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from plantops.health import cmapss
from plantops.health.rul import RulEstimator, RulInterval, RulPrediction

LAST_LINE = re.compile(
    r"^rmse=\d+\.\d{2} score=\d+\.\d cov80=\d\.\d{2} cov90=\d\.\d{2} width90=\d+\.\d "
    r"fit_s=\d+\.\d$"
)


def row(unit: int, cycle: int, base: float = 0.0) -> str:
    settings = ["-0.0007", "0.0003", "100.0"]
    sensors = [f"{base + j:.2f}" for j in range(cmapss.N_SENSORS)]
    return " ".join([str(unit), str(cycle), *settings, *sensors])


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_units_in_order(tmp_path: Path) -> None:
    # Trailing spaces as in NASA's files.
    lines = [row(1, 1) + "  ", row(1, 2, 0.5) + "  ", row(1, 3), "", row(2, 1), row(2, 2)]
    units = cmapss.read_units(write(tmp_path / "train.txt", lines))
    assert [u.unit_id for u in units] == ["1", "2"]
    assert [u.n_steps for u in units] == [3, 2]
    assert units[0].failed
    assert units[0].settings.shape == (3, 3)
    assert units[0].sensors.shape == (3, 21)
    assert units[0].settings[0].tolist() == [-0.0007, 0.0003, 100.0]
    assert units[0].sensors[1, 0] == 0.5
    assert units[0].sensors[0, 20] == 20.0
    test_units = cmapss.read_units(tmp_path / "train.txt", failed=False)
    assert not any(u.failed for u in test_units)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([row(1, 1), "1 2 0 0"], "line 2: expected 26 space-separated numbers"),
        ([row(1, 1), row(1, 2).replace("100.0", "abc")], "line 2: 'abc' is not a number"),
        ([row(1, 1).replace("100.0", "nan")], "line 1: values must be finite"),
        ([row(1, 1), row(1, 3)], "line 2: unit 1 cycle 3 follows cycle 1"),
        ([row(1, 2)], "line 1: unit 1 cycle 2 follows cycle 0"),
        ([row(1, 1), row(2, 1), row(1, 2)], "line 3: unit 1 appears again"),
        ([row(1, 1), "1.5" + row(1, 2)[1:]], "line 2: unit and cycle must be positive integers"),
        (["", "  "], "no data rows"),
    ],
)
def test_malformed_files_name_the_line(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write(tmp_path / "bad.txt", lines)
    with pytest.raises(ValueError, match=re.escape(message)):
        cmapss.read_units(path)


def test_reads_truth(tmp_path: Path) -> None:
    truth = cmapss.read_truth(write(tmp_path / "RUL.txt", ["112 ", "98", "", "69"]))
    assert truth.tolist() == [112.0, 98.0, 69.0]
    with pytest.raises(ValueError, match="line 2: 'x' is not a number"):
        cmapss.read_truth(write(tmp_path / "bad.txt", ["1", "x"]))
    with pytest.raises(ValueError, match="line 1: the RUL must be a non-negative number"):
        cmapss.read_truth(write(tmp_path / "neg.txt", ["-3"]))
    with pytest.raises(ValueError, match="line 1: expected one number"):
        cmapss.read_truth(write(tmp_path / "two.txt", ["1 2"]))
    with pytest.raises(ValueError, match="no values"):
        cmapss.read_truth(write(tmp_path / "empty.txt", [""]))


def test_rmse_and_score_by_hand() -> None:
    predicted = [10.0, 20.0, 33.0]
    true = [12.0, 20.0, 30.0]  # d = -2, 0, +3
    assert cmapss.rmse(predicted, true) == pytest.approx(math.sqrt((4 + 0 + 9) / 3))
    # early by 2: exp(2/13) - 1 = 0.166311; on time: 0; late by 3: exp(3/10) - 1 = 0.349859
    assert cmapss.phm08_score(predicted, true) == pytest.approx(0.1663114 + 0.3498588, abs=1e-6)
    # Late costs more than early by the same amount.
    assert cmapss.phm08_score([15.0], [10.0]) > cmapss.phm08_score([5.0], [10.0])
    with pytest.raises(ValueError, match="2 predictions but 1 true values"):
        cmapss.rmse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="no predictions"):
        cmapss.phm08_score([], [])


def test_coverage_and_width() -> None:
    intervals = [
        RulInterval(0.0, 10.0, 0.9),
        RulInterval(5.0, 9.0, 0.9),
        RulInterval(2.0, 4.0, 0.9),
    ]
    # 10 is on the bound (inside), 4 is below 5 (outside), 4 is on the bound (inside).
    assert cmapss.interval_coverage(intervals, [10.0, 4.0, 4.0]) == pytest.approx(2 / 3)
    assert cmapss.interval_mean_width(intervals) == pytest.approx((10 + 4 + 2) / 3)
    predictions = [RulPrediction(5.0, (RulInterval(4.0, 6.0, 0.8), i), 0.5, ()) for i in intervals]
    assert cmapss.interval_coverage(predictions, [10.0, 4.0, 4.0], 0.9) == pytest.approx(2 / 3)
    assert cmapss.interval_coverage(predictions, [10.0, 4.0, 4.0], 0.8) == pytest.approx(2 / 3)
    assert cmapss.interval_mean_width(predictions, 0.8) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="pass the confidence"):
        cmapss.interval_coverage(predictions, [1.0, 2.0, 3.0])


def test_truncate_unit(tmp_path: Path) -> None:
    unit = cmapss.read_units(write(tmp_path / "t.txt", [row(1, c) for c in range(1, 6)]))[0]
    cut = cmapss.truncate_unit(unit, 3)
    assert cut.n_steps == 3
    assert not cut.failed
    assert np.array_equal(cut.sensors, unit.sensors[:3])
    with pytest.raises(ValueError, match="between 1 and 5"):
        cmapss.truncate_unit(unit, 0)


# ----------------------------------------------------------------- the command


def synthetic_file(path: Path, n_units: int, seed: int, *, cut: bool = False) -> list[int]:
    """A C-MAPSS-shaped file of engines whose sensors drift to failure; with `cut`, each stops
    before failure and the true RUL after its last row is returned."""
    rng = np.random.default_rng(seed)
    lines, truth = [], []
    for unit in range(1, n_units + 1):
        length = int(rng.integers(60, 110))
        observed = int(rng.integers(30, length)) if cut else length
        truth.append(length - observed)
        for cycle in range(1, observed + 1):
            wear = math.exp((cycle - length) / 15.0)
            settings = [*rng.normal(0, 0.001, size=2).tolist(), 100.0]
            sensors = [518.67] * cmapss.N_SENSORS
            sensors[1] = 642.0 + 2.0 * wear + rng.normal(0, 0.05)
            sensors[6] = 554.0 - 3.0 * wear + rng.normal(0, 0.05)
            sensors[10] = 47.0 + 1.0 * wear + rng.normal(0, 0.05)
            values = [unit, cycle, *settings, *sensors]
            lines.append(" ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


@pytest.fixture(autouse=True)
def small_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's estimator with fewer trees and folds, so that these tests take seconds."""
    from plantops.health.management.commands import rul_benchmark

    monkeypatch.setattr(
        rul_benchmark, "RulEstimator", functools.partial(RulEstimator, cv_folds=3, gbm_iter=40)
    )


def run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("rul_benchmark", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_command_with_test_and_truth_files(tmp_path: Path) -> None:
    synthetic_file(tmp_path / "train.txt", 14, seed=1)
    truth = synthetic_file(tmp_path / "test.txt", 8, seed=2, cut=True)
    (tmp_path / "rul.txt").write_text("\n".join(map(str, truth)) + "\n", encoding="utf-8")
    lines = run(
        "--train", str(tmp_path / "train.txt"),
        "--test", str(tmp_path / "test.txt"),
        "--truth", str(tmp_path / "rul.txt"),
        "--cap", "50",
    )  # fmt: skip
    assert LAST_LINE.match(lines[-1]), lines[-1]
    values = dict(item.split("=") for item in lines[-1].split())
    assert float(values["rmse"]) < 15.0
    assert 0.0 <= float(values["cov90"]) <= 1.0


def test_command_holdout(tmp_path: Path) -> None:
    synthetic_file(tmp_path / "train.txt", 16, seed=3)
    lines = run("--train", str(tmp_path / "train.txt"), "--holdout", "0.25", "--seed", "1")
    assert LAST_LINE.match(lines[-1]), lines[-1]
    assert any("4 engines held out" in line for line in lines)
    again = run("--train", str(tmp_path / "train.txt"), "--holdout", "0.25", "--seed", "1")
    strip_time = lambda line: line.rsplit(" fit_s=", 1)[0]  # noqa: E731
    assert strip_time(again[-1]) == strip_time(lines[-1])


def test_command_errors(tmp_path: Path) -> None:
    train = tmp_path / "train.txt"
    synthetic_file(train, 4, seed=4)
    with pytest.raises(CommandError, match=r"missing\.txt: no such file"):
        run("--train", str(tmp_path / "missing.txt"), "--holdout", "0.2")
    with pytest.raises(CommandError, match="give --test and --truth"):
        run("--train", str(train))
    with pytest.raises(CommandError, match="between 0 and 1"):
        run("--train", str(train), "--holdout", "1.5")
    with pytest.raises(CommandError, match="leave out --test"):
        run("--train", str(train), "--holdout", "0.2", "--test", str(train))
    with pytest.raises(CommandError, match=r"nothing\.txt: no such file"):
        run("--train", str(train), "--test", str(train), "--truth", str(tmp_path / "nothing.txt"))
    (tmp_path / "short.txt").write_text("5\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"1 values but .* has 4 engines"):
        run("--train", str(train), "--test", str(train), "--truth", str(tmp_path / "short.txt"))
    (tmp_path / "bad.txt").write_text(row(1, 1) + "\n1 2 3\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad\.txt line 2: expected 26"):
        run("--train", str(tmp_path / "bad.txt"), "--holdout", "0.5")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError, match="cannot read"):
        run("--train", str(binary), "--holdout", "0.5")

"""A fit's stages and failures in words. Pure: only Django's gettext.

A fit's row keeps codes (`FitRun.stage` with its part and parts, `FitRun.error_code` with its
params) beside the English as written, which the command line prints and the record keeps.
Whoever shows a run words it again from the codes in the viewer's language: the page as it is
rendered, its socket for each push (`selectors.fit_run_worded`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop


def as_written(text: str) -> str:
    """The English of a marked text: what a row keeps, whatever language is active."""
    return text


# The stages of a fit, in their order.
STAGES = {
    "queued": gettext_noop("Waiting for a worker"),
    "starting": gettext_noop("Starting"),
    "loading": gettext_noop("Reading the imported runs to failure"),
    "regimes": gettext_noop("Finding the operating regimes"),
    "cross_validation": gettext_noop("Testing on runs it has not seen"),
    "final_fit": gettext_noop("Fitting the model on every run"),
    "calibration": gettext_noop("Calibrating the intervals"),
    "saving": gettext_noop("Saving the new version"),
    "done": gettext_noop("Done"),
}
# A stage told in parts: the runs of our own machines read one by one, the rounds of testing.
COUNTED_STAGES = {
    "loading": gettext_noop("Reading the runs of our own machines (%(part)s of %(parts)s)"),
    "cross_validation": gettext_noop(
        "Testing on runs it has not seen (round %(part)s of %(parts)s)"
    ),
}
# Why a fit failed. The params of each are kept with its code.
ERRORS = {
    "queue_down": gettext_noop(
        "The fit could not be handed to a worker: the job queue did not answer. Nothing was "
        "fitted; try again in a minute."
    ),
    # error: the exception's type and text, as Python wrote them.
    "unexpected": gettext_noop("The fit stopped on an unexpected error: %(error)s"),
    # percent, and the stage it was in (stage, part, parts).
    "worker_lost": gettext_noop(
        "The worker fitting it stopped answering at %(percent)s %%, while “%(stage)s” "
        "(restarted, or out of memory). Nothing was saved; start the fit again."
    ),
    "not_taken": gettext_noop(
        "No worker took the fit up within %(minutes)s minutes. Check that the workers are "
        "running, then start it again."
    ),
    # What the fleet gives the fit to learn from (training.FitRefused).
    "step_mismatch": gettext_noop(
        "Imported histories with steps of %(steps)s s, but HEALTH_STEP_S is %(step_s)s s."
    ),
    "columns_disagree": gettext_noop("Imported histories disagree on their sensor columns."),
    "no_runs": gettext_noop(
        "No run to failure of a %(asset_type)s in mode %(failure_mode)s to learn from: record "
        "failures on assets or import histories."
    ),
    "one_run": gettext_noop(
        "Only one run to failure of a %(asset_type)s in mode %(failure_mode)s to learn from, "
        "and a fit needs two: record failures on assets or import histories."
    ),
}


def stage_text(
    stage: str, part: int = 0, parts: int = 0, *, translate: Callable[[str], str] = gettext
) -> str | None:
    """The stage in words ("Testing on runs it has not seen (round 2 of 5)"), or None for a
    stage this module does not know."""
    if parts and stage in COUNTED_STAGES:
        return translate(COUNTED_STAGES[stage]) % {"part": part, "parts": parts}
    words = STAGES.get(stage)
    return translate(words) if words is not None else None


def error_text(
    code: str, params: Mapping[str, Any], *, translate: Callable[[str], str] = gettext
) -> str | None:
    """Why the fit failed, in words, or None for a code this module does not know. A stage
    among the params is a code, worded too."""
    template = ERRORS.get(code)
    if template is None:
        return None
    values = dict(params)
    if "stage" in values:
        stage = str(values["stage"])
        values["stage"] = (
            stage_text(stage, values.get("part", 0), values.get("parts", 0), translate=translate)
            or stage
        )
    return translate(template) % values

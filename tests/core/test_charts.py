"""Figures composed on the server: plotly's Python API, checked against the bundle pages load."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
from django.utils import translation
from plotly.offline import get_plotlyjs_version

from plantops.core import charts

ROOT = Path(__file__).resolve().parents[2]


def vendor_script():
    spec = importlib.util.spec_from_file_location(
        "vendor_plotly", ROOT / "scripts" / "vendor_plotly.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_pages_load_is_the_plotly_js_the_python_api_validates_against():
    assert get_plotlyjs_version() == vendor_script().VERSION


def test_a_figure_is_plain_json_without_plotly_pys_default_template():
    figure = charts.figure([go.Bar(x=["a"], y=[1])], charts.layout(height=300))

    assert figure == {
        "data": [{"type": "bar", "x": ["a"], "y": [1]}],
        "layout": {
            "font": charts.FONT,
            "paper_bgcolor": charts.COLORS["paper"],
            "plot_bgcolor": charts.COLORS["paper"],
            "height": 300,
        },
    }


def test_a_misspelt_attribute_is_refused_on_the_server_not_ignored_by_the_browser():
    with pytest.raises(ValueError, match="colr"):
        charts.figure([go.Bar(x=["a"], y=[1])], charts.layout(xaxis={"colr": "red"}))


def test_a_tarball_is_unpacked_only_when_it_matches_its_npm_integrity():
    script = vendor_script()
    tarball = b"the tarball"
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()

    script.check_integrity(tarball, integrity)
    with pytest.raises(SystemExit, match="does not match its pinned integrity"):
        script.check_integrity(tarball + b"!", integrity)
    with pytest.raises(SystemExit, match="does not match its pinned integrity"):
        script.check_integrity(tarball, script.INTEGRITY)


def test_the_bundle_served_names_no_server_of_plotlys():
    """Its config defaults that name plotly's CDN and Chart Studio are made local when fetched."""
    script = vendor_script()
    served = (script.TARGET / "plotly-basic.min.js").read_bytes()
    assert script.UPSTREAM_SHA256 != script.BUNDLE_SHA256
    for name in (b"cdn.plot.ly", b"cloud.plotly.com", b"cdn.jsdelivr", b"unpkg.com"):
        assert name not in served
    assert b'topojsonURL:{valType:"string",noBlank:!0,dflt:"/static/vendor/plotly/"}' in served


@pytest.mark.parametrize(
    ("language", "december", "sunday", "decimal"),
    [("de", "Dez", "So", ","), ("es", "Dic", "dom", ",")],
)
def test_the_charts_name_months_and_days_in_the_active_language(
    language, december, sunday, decimal
):
    with translation.override(language):
        locale = charts.theme()["locale"]
    assert locale["moduleType"] == "locale"
    assert locale["name"] == language
    assert locale["format"]["shortMonths"][11] == december
    assert len(locale["format"]["months"]) == 12
    assert locale["format"]["shortDays"][0] == sunday
    assert locale["format"]["decimal"] == decimal
    json.dumps(locale)  # no lazy words left for the page's JSON


def test_english_charts_keep_plotly_s_own_words():
    with translation.override("en"):
        assert charts.theme()["locale"] is None

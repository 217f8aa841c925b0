#!/usr/bin/env python
"""Every screen's weight and load time in headless Chromium, cold, against the pages as they were.

Builds its own PostgreSQL database (plantops_bench_pages, dropped at the end) holding the demo
plant (4 lines, 20 assets, their rules, parts and preventive schedules) with the 90 days of
past the first `make demo` gives it (`plantops.demo.history`: readings and rollups, states and
counts, alerts with their lifecycle, corrective, preventive and predictive work, fitted models
and predictions, OEE), so each page carries what a plant's would after three months.
Collects the static files into a directory of its own, then serves the plant twice:

  light     `daphne plantops.asgi:application`, as the deployment runs it: DEBUG off, static
            files fingerprinted, compressed (gzip, brotli) and cached for a year, the chart
            pages on plotly.js's basic bundle (scatter, bar, pie);
  baseline  the same application with the static files as they were served before: straight
            from the finders, uncompressed, not fingerprinted, and the chart pages on the full
            plotly.js bundle of the plotly wheel (this process's `--serve-baseline`).

Each page (the login form, then as a signed-in admin: the floor, an asset, the OEE board, a
line's OEE and its shift report, the alarm inbox, alarm KPIs, rules, the work list, a work
order, the problem report, maintenance KPIs, model health, subscriptions, my settings,
pipeline health, the admin index and the API docs) is opened RUNS times in one Chromium with a fresh profile, its HTTP cache cleared and
disabled through the DevTools protocol before each load. Per page: the median load time
(navigation start to the load event, Navigation Timing) and the bytes transferred until then
(transferSize of the document and of every resource that finished by the load event, Resource
Timing: compressed bodies plus headers).

Targets: every page loads in ≤ 1 s and transfers ≤ 1.2 MB; a chart page (one that loads
Plotly) ≤ 500 kB. Prints a table of both servers with the ratios, and a last line
`light_max_kb=… chart_max_kb=… light_max_ms=… baseline_chart_max_kb=…`. Exits 1 if a target is
missed, a page fails to load, or a page is not drawn (a chart page without a Plotly chart).

The static files travel as brotli (Chromium asks for it on loopback as over HTTPS); the pages
and their JSON are gzipped by plantops.core.compression. The plant is warmed up first (each
page read once, in-process), so the OEE snapshots a running plant's beat would have stored
exist; the browser's cache, not the server's, is what starts cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from own_database import run_in_own_database  # noqa: E402 - bench/ is the script's directory

BENCH_DB = "plantops_bench_pages"
RUNS = 3
MAX_LOAD_MS = 1000.0
MAX_PAGE_KB = 1200.0
MAX_CHART_PAGE_KB = 500.0
DAPHNE = str(Path(sys.executable).parent / "daphne")
BUNDLE = "vendor/plotly/plotly-basic.min.js"

# URL names that are not screens: JSON, fragments, form posts, redirects and file downloads.
NOT_PAGES = {
    "logout",
    "metrics",
    # A language choice (a POST) and the scripts' words, which every page loads and is measured with.
    "set_language",
    "javascript-catalog",
    "api-alerts",
    "alerts-panel",
    "alerts-acknowledge",
    "alerts-shelve",
    "alerts-unshelve",
    "alerts-assign",
    "alerts-comment",
    "floor:asset_trend",
    "health:asset_json",
    "health:fit_start",
    "maintenance:api",
    "maintenance:move",
    "maintenance:schedule",
    "maintenance:checklist",
    "maintenance:parts",
    "maintenance:note",
    "maintenance:photo_add",
    "maintenance:photo",
    "maintenance:complete",
    "maintenance:from_alert",
    "maintenance:from_prediction",
    "notify:alert",
    "notify:acknowledge",
    "oee:api",
    "oee:line_json",
    "oee:stop_reason",
    "oee:scrap",
}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-baseline":
        return serve_baseline(port=int(sys.argv[2]), static_dir=Path(sys.argv[3]))
    return run_in_own_database(BENCH_DB, "bench/pages.py", run)


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


# --- the baseline server ------------------------------------------------------------------------


def serve_baseline(*, port: int, static_dir: Path) -> int:
    """Run daphne on the application with static files served as before: from the finders,
    uncompressed, under their own names, and `static_dir` (the full bundle under the basic
    bundle's name) found first."""
    from daphne.cli import CommandLineInterface
    from django.conf import settings

    settings.STATICFILES_DIRS = [static_dir, *settings.STATICFILES_DIRS]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = False
    CommandLineInterface().run(["-b", "127.0.0.1", "-p", str(port), "plantops.asgi:application"])
    return 0


def baseline_static(into: Path) -> Path:
    """A directory holding the plotly wheel's full bundle under the basic bundle's name."""
    import plotly

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = into / BUNDLE
    target.parent.mkdir(parents=True)
    shutil.copyfile(full, target)
    return into


# --- the plant ---------------------------------------------------------------------------------


def seed() -> dict[str, int]:
    """The demo plant with its 90 days of past, as the first `make demo` stores it; returns
    the ids the pages need."""
    from django.contrib.auth.models import User

    from plantops.demo.history import demo_history_seed
    from plantops.demo.services import demo_plant_seed, demo_users_create
    from plantops.maintenance.models import WorkOrder, WorkOrderKind

    demo_plant_seed()
    # The past's operators, technicians and supervisor act as the demo's users do.
    with tempfile.TemporaryDirectory() as folder:
        demo_users_create(credentials=Path(folder) / "demo-users.txt")
    admin = User.objects.create_superuser("bench", "bench@example.invalid", "bench-password-1")
    outcome = demo_history_seed(days=90.0, fleet_units=20, report=lambda line: say(f"  {line}"))
    say(f"  {outcome.summary()}")
    # The corrective order with the most to show: its asset, line and the order itself.
    order = WorkOrder.objects.filter(kind=WorkOrderKind.CORRECTIVE).order_by("-pk").first()
    return {
        "asset": order.asset_id,
        "line": order.asset.line_id,
        "work_order": order.pk,
        "admin": admin.pk,
    }


def pages(ids: dict[str, int]) -> list[tuple[str, str]]:
    """(label, path) of every screen, the login form first (it is opened signed out)."""
    from django.urls import reverse

    return [
        ("login", reverse("login")),
        ("floor overview", reverse("floor:overview")),
        ("asset", reverse("floor:asset", args=[ids["asset"]])),
        ("OEE board", reverse("oee:board")),
        ("OEE line", reverse("oee:line", args=[ids["line"]])),
        ("OEE shift report", reverse("oee:shift_report", args=[ids["line"]])),
        ("alarm inbox", reverse("alerts-inbox")),
        ("alarm KPIs", reverse("alerts-kpis")),
        ("alert rules", reverse("maintenance:rules")),
        ("work list", reverse("maintenance:list")),
        ("work order", reverse("maintenance:detail", args=[ids["work_order"]])),
        ("report: pick asset", reverse("floor:report_asset")),
        ("report a problem", reverse("maintenance:report", args=[ids["asset"]])),
        ("maintenance KPIs", reverse("maintenance:kpis")),
        ("model health", reverse("maintenance:model_health")),
        ("subscriptions", reverse("notify:subscriptions")),
        ("my settings", reverse("floor:my_settings")),
        ("pipeline health", reverse("pipeline")),
        ("admin index", reverse("admin:index")),
        ("API docs", "/api/v1/docs"),
    ]


def unlisted(measured: list[str]) -> list[str]:
    """URL names outside the admin and API v1 that are neither measured nor known non-pages."""
    from django.urls import URLPattern, URLResolver, get_resolver, resolve

    covered = {resolve(path.split("?")[0]).view_name for path in measured}
    names: list[str] = []

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) in ("admin/", "api/v1/"):
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return sorted(set(names) - covered - NOT_PAGES)


# --- the servers and the browser ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_server(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [arg.replace("{port}", str(port)) for arg in args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{args[0]} exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, timeout=60, what=f"{args[-1]} to listen on {port}")
    return process, port


def warm_up(base: str, paths: list[tuple[str, str]], session: tuple[str, str]) -> None:
    """GET every page once, signed in; what the server answers is the browser's business."""
    for _, path in paths:
        request = urllib.request.Request(base + path, headers={"Cookie": "=".join(session)})
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=60).read()


def chromium(profile: Path):
    from scripts import headless

    driver = headless.chromium("--window-size=1280,800", f"--user-data-dir={profile}")
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


MEASURE = """
const nav = performance.getEntriesByType("navigation")[0];
if (!nav || !nav.loadEventEnd) return null;
const resources = performance.getEntriesByType("resource").filter((r) => r.responseEnd <= nav.loadEventEnd);
const bundle = resources.find((r) => r.name.includes("/vendor/plotly/"));
return {
  loadMs: nav.loadEventEnd - nav.startTime,
  firstByteMs: nav.responseStart - nav.startTime,
  bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
  status: nav.responseStatus,
  chart: !!window.Plotly,
  drawn: document.querySelectorAll(".js-plotly-plot .main-svg").length,
  bundle: bundle ? { transfer: bundle.transferSize, encoded: bundle.encodedBodySize, decoded: bundle.decodedBodySize } : null,
};
"""


def measure(driver, url: str) -> dict:
    """Open `url` cold; return its load time, bytes transferred and what it drew."""
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(url)
    deadline = time.monotonic() + 30
    while (result := driver.execute_script(MEASURE)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never fired its load event")
        time.sleep(0.05)
    if result["chart"]:
        # Drawn after load, from deferred scripts: wait for the first chart's SVG.
        while not driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
        ):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        result["drawn"] = driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
        )
    return result


def measure_all(
    bases: dict[str, str], paths: list[tuple[str, str]], session: tuple[str, str], work: Path
) -> dict[str, dict[str, dict]]:
    """Every page RUNS times on each server of `bases` (by name), in turns, so a busy moment of
    the machine falls on both alike: per server and page, the median load and first byte, and
    the largest transfer."""
    drivers = {name: chromium(work / f"profile-{name}") for name in bases}
    try:
        results: dict[str, dict[str, dict]] = {name: {} for name in bases}
        for i, (label, path) in enumerate(paths):
            runs: dict[str, list[dict]] = {name: [] for name in bases}
            for _ in range(RUNS):
                for name, driver in drivers.items():
                    if i == 1 and not runs[name]:  # the login form is opened signed out
                        driver.add_cookie({"name": session[0], "value": session[1], "path": "/"})
                    runs[name].append(measure(driver, bases[name] + path))
            for name, measured in runs.items():
                results[name][label] = {
                    "load_ms": statistics.median(r["loadMs"] for r in measured),
                    "first_byte_ms": statistics.median(r["firstByteMs"] for r in measured),
                    "kb": max(r["bytes"] for r in measured) / 1000,
                    "status": measured[-1]["status"],
                    "chart": measured[-1]["chart"],
                    "drawn": measured[-1]["drawn"],
                    "bundle": measured[-1]["bundle"],
                }
        return results
    finally:
        for driver in drivers.values():
            driver.quit()


# --- the run -----------------------------------------------------------------------------------


def collect_static(into: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env | {"STATIC_ROOT": str(into)},
        check=True,
    )


def compressed_sizes(static_root: Path) -> dict[str, int]:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = static_root / manifest["paths"][BUNDLE]
    return {
        "raw": hashed.stat().st_size,
        "gzip": (hashed.parent / (hashed.name + ".gz")).stat().st_size,
        "brotli": (hashed.parent / (hashed.name + ".br")).stat().st_size,
    }


def run() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    say("seeding the demo plant and its 90 days of past")
    started = time.monotonic()
    ids = seed()
    say(f"seeded in {time.monotonic() - started:.1f} s")
    paths = pages(ids)
    client = Client()
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(pk=ids["admin"]))
    session = (settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    work = Path(tempfile.mkdtemp(prefix="plantops-bench-pages-"))
    env = dict(os.environ)
    for name in ("DEBUG", "STATIC_ROOT"):
        env.pop(name, None)
    env |= {"ALLOWED_HOSTS": "127.0.0.1", "INSECURE_HTTP": "1", "PYTHONUNBUFFERED": "1"}
    servers: list[subprocess.Popen] = []
    try:
        say("collecting the static files (fingerprints, gzip and brotli)")
        collect_static(work / "static", env)
        sizes = compressed_sizes(work / "static")
        light, light_port = start_server(
            [DAPHNE, "-b", "127.0.0.1", "-p", "{port}", "plantops.asgi:application"],
            env | {"STATIC_ROOT": str(work / "static")},
            work / "light.log",
        )
        servers.append(light)
        baseline, baseline_port = start_server(
            [
                sys.executable,
                __file__,
                "--serve-baseline",
                "{port}",
                str(baseline_static(work / "baseline")),
            ],
            env,
            work / "baseline.log",
        )
        servers.append(baseline)
        # Once through every page first, as a plant that has been running has: the first read
        # of a period stores its hourly OEE snapshots, which beat would have made by then.
        for port in (light_port, baseline_port):
            warm_up(f"http://127.0.0.1:{port}", paths, session)
        say(f"measuring {len(paths)} pages × {RUNS} cold loads on each server")
        bases = {"light": light_port, "baseline": baseline_port}
        results = measure_all(
            {name: f"http://127.0.0.1:{port}" for name, port in bases.items()}, paths, session, work
        )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    return report(paths, results["light"], results["baseline"], sizes)


def report(paths: list[tuple[str, str]], light: dict, baseline: dict, sizes: dict[str, int]) -> int:
    problems: list[str] = []
    print()
    print(
        "load: navigation start to the load event (median ms); 1st byte: to the page's first byte"
    )
    print(
        f"{'page':<20} {'chart':>5} | {'light':>6} {'1st byte':>8} {'kB':>7} | {'baseline':>8} "
        f"{'kB':>7} | {'kB ratio':>8} {'ms ratio':>8} | target"
    )
    print("-" * 104)
    for label, _ in paths:
        new, old = light[label], baseline[label]
        limit = MAX_CHART_PAGE_KB if new["chart"] else MAX_PAGE_KB
        missed = []
        if new["status"] != 200:
            missed.append(f"HTTP {new['status']}")
        if new["load_ms"] > MAX_LOAD_MS:
            missed.append(f"load > {MAX_LOAD_MS:.0f} ms")
        if new["kb"] > limit:
            missed.append(f"> {limit:.0f} kB")
        if new["chart"] and not new["drawn"]:
            missed.append("no chart drawn")
        problems += [f"{label}: {m}" for m in missed]
        print(
            f"{label:<20} {'yes' if new['chart'] else '':>5} | {new['load_ms']:6.0f} "
            f"{new['first_byte_ms']:8.0f} {new['kb']:7.1f} | {old['load_ms']:8.0f} {old['kb']:7.1f} | "
            f"{new['kb'] / old['kb']:8.2f} {new['load_ms'] / old['load_ms']:8.2f} | "
            f"{'ok' if not missed else 'MISSED: ' + ', '.join(missed)}"
        )
    print("-" * 104)
    charts = [label for label, _ in paths if light[label]["chart"]]
    bundle_new = next((light[label]["bundle"] for label in charts if light[label]["bundle"]), None)
    bundle_old = next(
        (baseline[label]["bundle"] for label in charts if baseline[label]["bundle"]), None
    )
    if bundle_new and bundle_old:
        print(
            f"plotly.js as transferred: basic {bundle_new['transfer'] / 1000:.1f} kB "
            f"({bundle_new['decoded'] / 1000:.1f} kB unpacked), full "
            f"{bundle_old['transfer'] / 1000:.1f} kB ({bundle_old['decoded'] / 1000:.1f} kB unpacked): "
            f"{bundle_old['transfer'] / bundle_new['transfer']:.1f}x less"
        )
    print(
        f"plotly.js basic on disk: {sizes['raw'] / 1000:.1f} kB, gzip {sizes['gzip'] / 1000:.1f} kB, "
        f"brotli {sizes['brotli'] / 1000:.1f} kB"
    )
    extra = unlisted([path for _, path in paths])
    if extra:
        print(f"URL names not measured (add them to pages() or NOT_PAGES): {', '.join(extra)}")
    light_max_kb = max(light[label]["kb"] for label, _ in paths)
    chart_max_kb = max((light[label]["kb"] for label in charts), default=0.0)
    light_max_ms = max(light[label]["load_ms"] for label, _ in paths)
    baseline_chart_max_kb = max((baseline[label]["kb"] for label in charts), default=0.0)
    if not charts:
        problems.append("no page loaded Plotly")
    for problem in problems:
        print(f"MISSED {problem}")
    print(
        f"light_max_kb={light_max_kb:.1f} chart_max_kb={chart_max_kb:.1f} "
        f"light_max_ms={light_max_ms:.0f} baseline_chart_max_kb={baseline_chart_max_kb:.1f}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

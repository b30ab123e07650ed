"""The real dashboard in a real browser: ``revcycle dashboard`` in a subprocess on a free port,
on the warehouse of conftest ``dashboard_area``, loaded page by page in headless Chromium
(Debian's /usr/bin/chromium driven by Playwright; never ``playwright install``).

Each page must show its key figures (computed from the marts in tests/dashboard/support.py)
and no error box; a screenshot of each is saved under the test's tmp dir, the overview's path
printed. Skips only when Chromium cannot be installed here, and says why.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from revcycle.paths import WorkArea
from tests.dashboard.support import Expected, dollars, expected_figures

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'
FOOTER = "Read-only view of"  # the app's last element: everything above it is rendered
TIMEOUT_MS = 60_000


def _install_chromium() -> str | None:
    """Install Debian's chromium as `make test` does; returns why it cannot, else None."""
    if shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and this machine has no apt-get to install it"
    if os.geteuid() != 0:
        return f"{CHROMIUM} is missing and installing it with apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"`{' '.join(command)}` failed ({last})"
    return None if CHROMIUM.exists() else f"apt-get installed no {CHROMIUM}"


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = _install_chromium()
        if reason is not None:
            pytest.skip(f"Chromium cannot be installed here: {reason}")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def server(
    chromium: Path, dashboard_area: WorkArea, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``revcycle dashboard --port N`` on the test warehouse; stopped by PID at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard_server") / "streamlit.log"
    revcycle = Path(sys.executable).with_name("revcycle")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(revcycle),
                "dashboard",
                "--data-dir",
                str(dashboard_area.root),
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_healthy(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)  # `revcycle dashboard` became Streamlit: same PID
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"revcycle dashboard exited early:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"the dashboard did not come up in 90 s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def expected(dashboard_area: WorkArea) -> Expected:
    return expected_figures(dashboard_area.warehouse)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    try:
        yield opened
    finally:
        context.close()


def _load(page: Any, server: Server, slug: str) -> None:
    page.goto(f"{server.url}/?page={slug}", wait_until="domcontentloaded")
    try:
        page.get_by_text(FOOTER).wait_for()
    except Exception as exc:
        raise AssertionError(f"{slug} never finished rendering:\n{server.log_tail()}") from exc


def _metrics(page: Any) -> dict[str, str]:
    # Streamlit renders a metric's label and value as separate elements: on a busy machine one
    # can be read before the other exists, so wait (up to 10 s) until they pair up.
    deadline = time.monotonic() + 10
    while True:
        labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        if len(labels) == len(values) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    assert len(labels) == len(values)
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def _check_and_shoot(page: Any, slug: str, shots: Path) -> Path:
    errors = page.locator(ERROR_BOXES)
    assert errors.count() == 0, f"{slug}: {errors.all_inner_texts()}"
    path = shots / f"{slug}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard_screenshots")


def test_overview(
    page: Any, server: Server, expected: Expected, shots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _load(page, server, "overview")
    page.locator(".js-plotly-plot .main-svg").first.wait_for()  # the A/R trend is drawn
    metrics = _metrics(page)
    assert metrics["Insurance A/R"] == dollars(expected.insurance_ar)
    assert metrics["Patient A/R"] == dollars(expected.patient_ar)
    assert metrics["Clean claim rate"] == expected.clean_claim_rate
    assert page.get_by_text(f"{expected.clean_ready} insured claims").count() == 1
    path = _check_and_shoot(page, "overview", shots)
    with capsys.disabled():
        print(f"\ndashboard overview screenshot: {path}")


def test_navigation_from_the_sidebar(page: Any, server: Server, expected: Expected) -> None:
    _load(page, server, "overview")
    page.get_by_test_id("stSidebar").get_by_text("Denials", exact=True).click()
    page.get_by_role("heading", name="Denials").wait_for()
    page.get_by_test_id("stMetricLabel").get_by_text("Net denied").wait_for()
    assert _metrics(page)["Denied"] == dollars(expected.denied_amount)
    assert page.url.endswith("?page=denials")


@pytest.mark.parametrize(
    ("slug", "figures"),
    [
        ("aging", lambda e: {"Insurance A/R": dollars(e.insurance_ar)}),
        (
            "denials",
            lambda e: {"Denials": f"{e.denials:,}", "Denied": dollars(e.denied_amount)},
        ),
        (
            "held",
            lambda e: {"Held claims": f"{e.held_claims:,}", "Held charges": dollars(e.held_amount)},
        ),
        (
            "remits",
            lambda e: {
                "Items to work": f"{e.work_items:,}",
                "Money at stake": dollars(e.work_amount),
            },
        ),
        (
            "runs",
            lambda e: {"Last gate verdict": "passed", "837 files": f"{e.files_837:,}"},
        ),
    ],
)
def test_page_shows_its_figures(
    page: Any,
    server: Server,
    expected: Expected,
    shots: Path,
    slug: str,
    figures: Any,
) -> None:
    _load(page, server, slug)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    metrics = _metrics(page)
    for label, value in figures(expected).items():
        assert metrics.get(label) == value, (slug, label, metrics)
    _check_and_shoot(page, slug, shots)


def test_claim_lookup(page: Any, server: Server, expected: Expected, shots: Path) -> None:
    _load(page, server, "claim")
    box = page.get_by_label("Claim id", exact=True).and_(page.get_by_role("textbox"))
    box.fill(expected.lookup_claim_id)
    box.press("Enter")
    page.get_by_role("heading", name=f"Claim {expected.lookup_claim_id}").wait_for()
    page.get_by_test_id("stMetricLabel").get_by_text("Open with insurance").wait_for()
    metrics = _metrics(page)
    assert metrics["Status"] == expected.lookup_status
    assert metrics["Charged"] == dollars(expected.lookup_charge)
    page.get_by_role("heading", name="Ledger").wait_for()
    assert f"claim={expected.lookup_claim_id}" in page.url
    _check_and_shoot(page, "claim", shots)


def test_server_listens_on_127_0_0_1_only(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    # Bound to 127.0.0.1 itself, not to every address: another loopback address is refused
    # (it would connect to a server bound to 0.0.0.0).
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()

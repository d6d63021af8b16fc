"""Browser journeys: Debian's Chromium, driven by Playwright, against a live Lotse.

Every test in this folder gets the ``e2e`` marker and is skipped with one line when
``/usr/bin/chromium`` is missing (a failure with ``LOTSE_REQUIRE_SERVICES=1``).

What a journey gets
-------------------
``page``
    A fresh tab in a fresh browser context (own cookies) on the live server; relative
    URLs work (``page.goto("/meldungen")``).  Any test that uses it runs twice, at the
    ``phone`` viewport (390×844, touch, device scale 2) and the ``desktop`` one
    (1280×900).  Pin one with ``@pytest.mark.parametrize("viewport", ["desktop"])``.
    Uncaught JavaScript errors and Content-Security-Policy violations fail the test.
``new_page(viewport="phone")``
    Another tab in a context of its own: a second person (two browsers booking the
    same slot).
``live_server``
    One per test module, on its own copy of a SQLite file seeded once per run: ``.url``,
    ``.app``, and
    ``with live_server.app_context(): db.session.add(...); db.session.commit()``
    to add data (what a test adds stays for the rest of the module: give it names of
    its own).  It holds ``flask lotse seed-demo`` (the core's departments and staff,
    plus what every feature's seeder adds), the demo staff with one known password.
    Jobs run inline, so a mail exists when the response arrives.  Rate limits are reset
    before every test.
``mailbox``
    Mail the live app sent during this test (``tests/mailbox.py``, the same as the unit
    tests' ``mailbox``): ``mailbox.latest(to="a@b.example")`` (waits briefly),
    ``mailbox.messages()``, ``Mailbox.text(msg)``, ``Mailbox.links(msg)``; links point to
    the live server, so ``page.goto(Mailbox.links(msg)[0])`` follows one.
``shoot(step)``
    Full-page screenshot to ``test-output/e2e/<journey>-<viewport>-<step>.png``
    (journey = the test name without ``test_``).  Look at them.
``tile_server``
    The map tiles: every ``/{z}/{x}/{y}.png`` is one generated tile, and the app's
    ``TILE_URL`` points here, so maps render offline.  ``tile_server.served`` counts tiles.
``log_in(page, email=ADMIN)``
    Sign a member of staff in through the form (once per account and browser; later
    calls reuse the session cookie) and land on ``/verwaltung/``.  The demo staff, all
    with ``PASSWORD`` (``from tests.e2e.support import ADMIN, CLERK, BOOKING_OFFICE``):
    the administrator, a clerk of Tiefbau, the booking office.

Checks (``from tests.e2e.support import …``): ``assert_accessible(page)`` runs axe-core
for WCAG 2.1 A/AA and lists every violation with rule, impact and selectors;
``tab_to(page, locator)`` presses Tab until the locator has the focus and checks that the
focus is visible at every stop; ``assert_focus_visible(page)``, ``is_focused(locator)``.

Select by role and label (``page.get_by_role("button", name="Senden")``,
``page.get_by_label("E-Mail-Adresse")``): it proves the page is accessible, too.
The total time of the browser tests is printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select

from lotse import create_app
from lotse.extensions import db, limiter
from tests.conftest import base_config, service_unavailable
from tests.e2e.support import PASSWORD, LiveServer, TileServer
from tests.mailbox import Mailbox

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "test-output" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}

_durations: list[float] = []  # every phase of every browser test
_ran: list[bool] = []


# --- collection and reporting ---------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A hook, not a fixture: skips raised here are reported together, in one line.
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable("Chromium", f"{CHROMIUM} not installed; apt-get install chromium")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "e2e" in report.keywords:
        _durations.append(report.duration)
        _ran.append(report.when == "call")


def pytest_terminal_summary(terminalreporter) -> None:
    if any(_ran):
        total = sum(_durations)
        verdict = "within" if total < 300 else "OVER"
        terminalreporter.write_line(
            f"e2e: browser suite ran {total:.1f} s ({verdict} the 300 s budget); "
            f"screenshots in {SCREENSHOTS.relative_to(HERE.parents[1])}/"
        )


# --- servers --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.stop()


def seed(app) -> None:
    """The demo town, with one known password for the demo staff."""
    from lotse.models import User

    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["lotse", "seed-demo"])
        assert result.exit_code == 0, result.output
        for user in db.session.scalars(select(User)):
            user.set_password(PASSWORD)
        db.session.commit()


def town_app(folder: Path, tile_server: TileServer):
    return create_app(
        base_config(f"sqlite:///{folder / 'lotse.sqlite3'}", TILE_URL=tile_server.tile_url),
        instance_path=str(folder / "instance"),
    )


@pytest.fixture(scope="session")
def seeded_town(tmp_path_factory, tile_server: TileServer) -> Path:
    """The demo town, seeded once per run (most of a module's start-up time otherwise)."""
    folder = tmp_path_factory.mktemp("town")
    app = town_app(folder, tile_server)
    seed(app)
    with app.app_context():
        db.engine.dispose()
    return folder


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory, seeded_town: Path, tile_server: TileServer
) -> Iterator[LiveServer]:
    """A module's own copy of the seeded town, served."""
    folder = tmp_path_factory.mktemp("live")
    shutil.copytree(seeded_town, folder, dirs_exist_ok=True)
    app = town_app(folder, tile_server)
    server = LiveServer(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    if "live_server" in request.fixturenames:
        with request.getfixturevalue("live_server").app.app_context():
            limiter.reset()


@pytest.fixture
def log_in(live_server: LiveServer) -> Callable[..., Page]:
    return live_server.log_in


@pytest.fixture
def mailbox(live_server: LiveServer) -> Mailbox:
    return Mailbox(Path(live_server.app.instance_path) / "mail")


# --- browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


class PageErrors:
    """Uncaught script errors and CSP violations seen by the pages of one test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        return page


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []
    errors = PageErrors()

    def make(viewport: str = "phone") -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="de-DE",
            timezone_id="Europe/Berlin",
            service_workers="block",
            **VIEWPORTS[viewport],
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return errors.watch(context.new_page())

    yield make
    for context in contexts:
        context.close()
    assert not errors.errors, "\n".join(errors.errors)


@pytest.fixture
def page(new_page: Callable[..., Page], viewport: str) -> Page:
    return new_page(viewport)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The screenshot folder, emptied once per run so it shows only this run's pages."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture
def shoot(request: pytest.FixtureRequest, screenshots: Path) -> Callable[..., Path]:
    journey = request.node.originalname.removeprefix("test_").replace("_", "-")
    viewport = request.getfixturevalue("viewport")

    def screenshot(step: str, target: Page | None = None) -> Path:
        path = screenshots / f"{journey}-{viewport}-{step}.png"
        (target or request.getfixturevalue("page")).screenshot(path=str(path), full_page=True)
        return path

    return screenshot

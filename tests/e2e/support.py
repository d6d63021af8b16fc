"""The machinery behind the browser fixtures, and the checks journeys call.

Import the checks in a journey module:
``from tests.e2e.support import assert_accessible, assert_focus_visible, tab_to``.
Everything else here is used through the fixtures in ``conftest.py``.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from flask import Flask
from playwright.sync_api import Locator, Page
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# The demo staff of ``flask lotse seed-demo``; the live server gives them all PASSWORD.
PASSWORD = "e2e password 4 staff"
ADMIN = "admin@musterstadt.example"
CLERK = "tiefbau.sb@musterstadt.example"
BOOKING_OFFICE = "buchung@musterstadt.example"

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TILE_RE = re.compile(r"^/\d+/\d+/\d+\.png$")


# --- servers ---------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Serving:
    """Run a server's ``serve_forever`` in a thread; ``stop()`` shuts it down and closes it."""

    def __init__(self, server: BaseWSGIServer | ThreadingHTTPServer) -> None:
        self.server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class LiveServer(_Serving):
    """The real app served on a free loopback port by werkzeug, one thread per request."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._sessions: dict[tuple[str, str, str], list[Any]] = {}
        super().__init__(
            make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        )

    def log_in(self, page: Page, email: str = ADMIN, password: str = PASSWORD) -> Page:
        """Sign in through the login form and land on ``/verwaltung/``.

        The form is filled once per account and browser; later calls reuse that session
        cookie, which saves most of a second per test.
        """
        key = (email, password, page.evaluate("navigator.userAgent"))
        if key in self._sessions:
            page.context.add_cookies(self._sessions[key])
            page.goto("/verwaltung/")
            return page
        page.goto("/anmelden")
        page.get_by_label("E-Mail-Adresse").fill(email)
        page.get_by_label("Passwort").fill(password)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url("**/verwaltung/")
        self._sessions[key] = page.context.cookies()
        return page

    @contextmanager
    def app_context(self) -> Iterator[None]:
        """Work with the live app's database: ``with live_server.app_context(): …``."""
        with self.app.app_context():
            yield


def tile_png() -> bytes:
    """One 256×256 map tile: a pale background with a grid, like an empty street map."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), (242, 239, 233))
    draw = ImageDraw.Draw(image)
    for offset in range(0, 256, 64):
        draw.line([(offset, 0), (offset, 255)], fill=(205, 200, 190), width=2)
        draw.line([(0, offset), (255, offset)], fill=(205, 200, 190), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class TileServer(_Serving):
    """Answers every ``/{z}/{x}/{y}.png`` with the same tile and counts what it served."""

    def __init__(self) -> None:
        self.served = 0
        png = tile_png()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                if not TILE_RE.match(self.path.split("?", 1)[0]):
                    self.send_error(404)
                    return
                outer.served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.send_header("Cache-Control", "max-age=3600")
                self.end_headers()
                # The page may have moved on before its tile arrived.
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(png)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.tile_url = self.url + "/{z}/{x}/{y}.png"


# --- checks ----------------------------------------------------------------------------


def axe_violations(page: Page, context: Any = None) -> list[dict[str, Any]]:
    """Run axe-core (bundled with axe-playwright-python) for WCAG 2.1 A/AA on the page."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate(
        "([context, options]) => axe.run(context || document, options)", [context, options]
    )
    return result["violations"]


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe: {len(violations)} WCAG 2.1 A/AA violation(s) on {url}"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    {target}   {node['html'][:100]}")
            head, *fixes = [line.strip() for line in node["failureSummary"].splitlines()]
            lines.append(f"      {head} {'; '.join(fixes)}")
    return "\n".join(lines)


def assert_fits_the_screen(page: Page) -> None:
    """The page reflows to the screen's width: nothing makes it scroll sideways (WCAG 1.4.10).

    Wide tables scroll inside their own ``.table-wrap``; the page itself never does.
    """
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.viewport_size["width"]
    if width > screen:
        widest = page.evaluate(WIDEST_JS, screen)
        raise AssertionError(f"{page.url} is {width}px wide on a {screen}px screen: {widest}")


WIDEST_JS = """(screen) => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > screen)
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
       + ' right=' + Math.round(el.getBoundingClientRect().right))"""


def assert_accessible(page: Page, context: Any = None) -> None:
    """Fail with a readable list (rule, impact, selectors) unless axe finds nothing, and
    unless the page fits the screen's width (reflow, which axe does not check)."""
    violations = axe_violations(page, context)
    assert not violations, format_violations(page.url, violations)
    assert_fits_the_screen(page)


FOCUS_STYLE_JS = """(target) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {
    outline, shadow: s.boxShadow !== 'none', reached: el === target,
    label: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "'
      + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"',
  };
}"""


def _focus_stop(page: Page, target: Any = None) -> tuple[str, bool]:
    """Check the focused element shows a focus outline or ring; its label, and whether it
    is ``target`` (an element handle), in one round trip to the browser."""
    style = page.evaluate(FOCUS_STYLE_JS, target)
    assert style is not None, "nothing has the keyboard focus"
    assert style["outline"] or style["shadow"], f"focus is not visible on {style['label']}"
    return style["label"], style["reached"]


def assert_focus_visible(page: Page) -> str:
    """The focused element shows a focus outline or ring; returns a short description of it."""
    return _focus_stop(page)[0]


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, max_presses: int = 40) -> list[str]:
    """Press Tab until ``target`` has the focus, checking the focus is visible at every stop.

    Returns the elements passed on the way, so a journey can assert the tab order.
    """
    element = target.element_handle()
    passed = []
    try:
        for _ in range(max_presses):
            page.keyboard.press("Tab")
            label, reached = _focus_stop(page, element)
            passed.append(label)
            if reached:
                return passed
    finally:
        element.dispose()
    raise AssertionError(f"{target} not reached after {max_presses} Tabs: {passed}")

"""Reflow at 320 px (WCAG 1.4.10) on the pages the BITV audit found too wide, and the week
grid's skip link (issue 21)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from buchung.models import Resource
from lotse.extensions import db
from mangel.models import Category, Report
from tests.e2e.support import assert_accessible, assert_fits_the_screen, tab_to


def ids(live_server) -> dict[str, int]:
    with live_server.app_context():
        return {
            "category": db.session.scalar(
                select(Category.id).where(Category.name == "Straßenschaden/Schlagloch")
            ),
            "report": db.session.scalar(
                select(Report.id)
                .join(Category)
                .where(Report.confirmed_at.is_not(None), Report.hidden.is_(False))
                .order_by(db.func.length(Category.name).desc())
            ),
            "hall": db.session.scalar(select(Resource.id).where(Resource.name == "Gymnastikhalle")),
        }


@pytest.mark.parametrize("viewport", ["phone"])
def test_pages_reflow_at_320_px(page: Page, live_server, shoot):
    known = ids(live_server)
    page.set_viewport_size({"width": 320, "height": 640})
    for name, path in {
        "statement": "/barrierefreiheit",
        "dgs": "/gebaerdensprache",
        "location": f"/maengel/neu/ort?category={known['category']}",
        "report": f"/maengel/{known['report']}",
        "open311": "/open311/v2/",
        "booking": f"/buchung/{known['hall']}/buchen",
        "figures-of-hall": f"/buchung/{known['hall']}",
    }.items():
        page.goto(path)
        assert_fits_the_screen(page)
        shoot(f"320-{name}")
    page.goto("/barrierefreiheit", wait_until="load")
    assert_accessible(page)


def test_week_grid_can_be_skipped(page: Page, live_server):
    page.goto(f"/buchung/{ids(live_server)['hall']}")
    skip = page.get_by_role("link", name="Belegungstabelle überspringen")
    tab_to(page, skip, max_presses=30)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused in {
        "Ihre Wunschzeit ist belegt? Auf die Warteliste",
        "Belegungsplan zum Drucken",
    }
    expect(page.locator(".week-grid a:focus")).to_have_count(0)

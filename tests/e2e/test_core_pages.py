"""Every page of the core, at both viewports: zero axe-core WCAG 2.1 A/AA violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible, axe_violations, format_violations

PUBLIC_PAGES = {
    "start": "/",
    "leichte-sprache": "/leichte-sprache",
    "impressum": "/impressum",
    "datenschutz": "/datenschutz",
    "barrierefreiheit": "/barrierefreiheit",
    "login": "/anmelden",
    "not-found": "/gibt-es-nicht",
}
STAFF_PAGES = {
    "staff-home": "/verwaltung/",
    "staff-list": "/verwaltung/admin/personal",
    "staff-edit": "/verwaltung/admin/personal/1",
    "staff-new": "/verwaltung/admin/personal/neu",
    "department-list": "/verwaltung/admin/fachbereiche",
    "department-edit": "/verwaltung/admin/fachbereiche/1",
}


def visit_all(page: Page, shoot, pages: dict[str, str]) -> list[str]:
    """Open each page, screenshot it, and collect axe's findings for all of them."""
    findings = []
    for name, path in pages.items():
        response = page.goto(path)
        assert response.status == (404 if name == "not-found" else 200), path
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        shoot(name)
        violations = axe_violations(page)
        if violations:
            findings.append(format_violations(path, violations))
    return findings


def test_every_public_page_is_accessible(page: Page, shoot):
    findings = visit_all(page, shoot, PUBLIC_PAGES)
    assert not findings, "\n".join(findings)


def test_every_staff_page_is_accessible(page: Page, shoot, log_in):
    log_in(page)
    findings = visit_all(page, shoot, STAFF_PAGES)
    assert not findings, "\n".join(findings)


def test_admin_form_with_errors_is_accessible(page: Page, shoot, log_in):
    log_in(page)
    page.goto("/verwaltung/admin/personal/neu")
    page.get_by_label("E-Mail-Adresse").fill("no address")
    page.get_by_role("button", name="Speichern").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    for message in (
        "Bitte geben Sie einen Namen ein.",
        "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "Bitte vergeben Sie ein Passwort.",
    ):
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    shoot("errors")


def test_axe_check_names_rule_impact_and_target(page: Page):
    page.goto("/")
    page.evaluate(
        """() => {
      const img = document.createElement('img');
      img.id = 'no-alt';
      img.src = '/static/vendor/leaflet/images/marker-icon.png';
      document.querySelector('main').append(img);
    }"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    print(failure.value)
    assert "image-alt (critical)" in str(failure.value)
    assert "#no-alt" in str(failure.value)

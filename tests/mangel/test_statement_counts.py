"""Every public and staff list of the Mängelmelder costs a fixed number of SQL statements.

Each list is loaded with two reports and again with twelve, every report carrying a
history, a released photo, a supporter and a department: an N+1 (one more query per
report for its category, photos, history …) shows up as a difference, and the total
must stay within a bound that does not grow with the page.
"""

from __future__ import annotations

import pytest

from lotse.extensions import db
from lotse.models import utcnow
from tests.mangel.test_workbench import staff  # noqa: F401 - fixture
from tests.sql_counter import statements_for

pytestmark = pytest.mark.both_dbs

BBOX = "6.48,50.74,6.50,50.76"
WORKBENCH = "/verwaltung/maengel/meldungen"
# url → most statements one request may send (a logged-in clerk costs a few for the user).
LISTS = {
    "/maengel/": 5,  # the list, support counts, filter categories, marker names, parents
    f"/maengel/karte.json?bbox={BBOX}": 2,
    "/maengel/feed.atom": 2,
    "/open311/v2/requests.json": 4,
    "/open311/v2/requests.json?extensions=true": 5,
    "/open311/v2/requests.xml?extensions=true": 5,
}
STAFF_LISTS = {
    f"{WORKBENCH}/": 10,
    f"{WORKBENCH}/export.csv": 6,
    f"{WORKBENCH}/karte": 10,
}


@pytest.fixture
def add_reports(app, make_report, staff):  # noqa: F811
    """Add ``n`` public reports, each with history, a released photo and a supporter."""
    from mangel.models import ReportPhoto, StatusChange, Support

    def add(n: int) -> None:
        ids = [
            make_report(department_id=staff["tiefbau"], photos_released=True, street="Hauptstr.")
            for _ in range(n)
        ]
        with app.app_context():
            for rid in ids:
                db.session.add_all(
                    [
                        StatusChange(
                            report_id=rid, status="in_progress", public_note="Wir sind dran"
                        ),
                        ReportPhoto(
                            report_id=rid,
                            file_name=f"p{rid}.jpg",
                            thumb_name=f"t{rid}.jpg",
                            width=10,
                            height=10,
                        ),
                        Support(report_id=rid, email_hash=f"h{rid}", confirmed_at=utcnow()),
                    ]
                )
            db.session.commit()

    return add


def _counts(client, app, urls) -> dict[str, int]:
    return {url: len(statements_for(client, app, url)) for url in urls}


def test_public_lists_cost_the_same_for_two_and_twelve_reports(client, app, add_reports):
    add_reports(2)
    few = _counts(client, app, LISTS)
    add_reports(10)
    many = _counts(client, app, LISTS)
    assert many == few
    over = {url: n for url, n in many.items() if n > LISTS[url]}
    assert not over, over


def test_staff_lists_cost_the_same_for_two_and_twelve_reports(client, app, auth, add_reports):
    auth.login("a@town.example")
    add_reports(2)
    few = _counts(client, app, STAFF_LISTS)
    add_reports(10)
    many = _counts(client, app, STAFF_LISTS)
    assert many == few
    over = {url: n for url, n in many.items() if n > STAFF_LISTS[url]}
    assert not over, over

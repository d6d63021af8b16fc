"""Duplikat through the web: reporter and supporters of a duplicate follow the original."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lotse.extensions import db
from tests.mailbox import Mailbox
from tests.mangel.conftest import REPORTER
from tests.mangel.test_workbench import BASE, audit_actions, staff  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs

SECOND_REPORTER = "max.muster@example.org"


def support(form_post, mailbox: Mailbox, report_id: int, email: str, notify: bool) -> None:
    """Support a report the way a citizen does: form, mail, confirmation link."""
    page = f"/maengel/{report_id}"
    data = {"email": email, **({"notify": "y"} if notify else {})}
    assert form_post(f"{page}/unterstuetzen", data, page=page).status_code == 302
    link = next(
        link for link in Mailbox.links(mailbox.latest(to=email)) if "/unterstuetzung/" in link
    )
    path = link.removeprefix("http://localhost")
    assert form_post(path, {}).status_code == 302


def supports_shown(client, report_id: int) -> str:
    html = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    return html.split("Unterstützungen</dt><dd>")[1].split("</dd>")[0]


@pytest.fixture
def pair(make_report, staff):  # noqa: F811 - the fixture imported above
    """An original and a later report of the same pothole by someone else."""
    original = make_report(description="Loch an der Ecke", department_id=staff["tiefbau"])
    duplicate = make_report(
        description="Schon wieder ein Loch",
        department_id=staff["tiefbau"],
        reporter_email=SECOND_REPORTER,
    )
    return original, duplicate


def test_duplicate_people_follow_the_original_and_supports_count_there(
    app, client, auth, form_post, mailbox, pair
):
    original, duplicate = pair
    support(form_post, mailbox, duplicate, "folgt@example.org", notify=True)
    support(form_post, mailbox, duplicate, "beide@example.org", notify=False)
    support(form_post, mailbox, original, "Beide@Example.org", notify=False)
    assert (supports_shown(client, original), supports_shown(client, duplicate)) == ("1", "2")

    auth.login("a@town.example")
    url = f"{BASE}/{duplicate}"
    assert f"/duplikat/{original}" in client.get(url).get_data(as_text=True)  # offered nearby
    form_post(f"{url}/duplikat/{original}", page=url)
    assert audit_actions(app, duplicate) == ["duplicate", "status"]

    public = client.get(f"/maengel/{duplicate}").get_data(as_text=True)
    assert "Duplikat" in public and f'href="/maengel/{original}"' in public
    assert "zählen bei der ursprünglichen Meldung" in public
    # "beide@" supported both reports: counted once on the original.
    assert supports_shown(client, original) == "2"
    duplicate_mail = mailbox.latest(to=SECOND_REPORTER)
    assert f"Duplikat von Meldung {original}" in Mailbox.text(duplicate_mail)

    before = {to: len(mailbox.messages(to=to)) for to in (SECOND_REPORTER, "folgt@example.org")}
    form_post(
        f"{BASE}/{original}/status",
        {"status": "fixed", "public_note": "Asphalt ist neu."},
        page=f"{BASE}/{original}",
    )
    own = mailbox.latest(to=REPORTER["email"])
    assert own["Subject"] == f"Neuer Stand Ihrer Meldung Nr. {original}"
    for follower in (SECOND_REPORTER, "folgt@example.org"):
        mails = mailbox.messages(to=follower)
        assert len(mails) == before[follower] + 1
        assert mails[-1]["Subject"] == f"Neuer Stand der Meldung Nr. {original}"
        text = Mailbox.text(mails[-1])
        assert "der Sie folgen" in text and "erledigt" in text and "Asphalt ist neu." in text
        assert f"/maengel/{original}" in text
    news = [m["Subject"] for m in mailbox.messages(to="beide@example.org")]
    assert news == ["Bitte bestätigen Sie Ihre Unterstützung"] * 2  # did not ask for news


def test_reopening_a_duplicate_stops_the_following(app, client, auth, form_post, mailbox, pair):
    original, duplicate = pair
    auth.login("a@town.example")
    url = f"{BASE}/{duplicate}"
    form_post(f"{url}/duplikat/{original}", page=url)
    form_post(f"{url}/status", {"status": "in_progress", "public_note": ""}, page=url)
    assert f'href="/maengel/{original}"' not in client.get(f"/maengel/{duplicate}").get_data(
        as_text=True
    )
    count = len(mailbox.messages(to=SECOND_REPORTER))
    form_post(f"{BASE}/{original}/status", {"status": "fixed"}, page=f"{BASE}/{original}")
    assert len(mailbox.messages(to=SECOND_REPORTER)) == count


def test_duplicate_of_a_duplicate_points_to_the_first_original(
    app,
    auth,
    form_post,
    pair,
    make_report,
    staff,  # noqa: F811
):
    from mangel.models import Report

    original, duplicate = pair
    third = make_report(department_id=staff["tiefbau"], reporter_email="dritte@example.org")
    auth.login("a@town.example")
    form_post(f"{BASE}/{duplicate}/duplikat/{original}", page=f"{BASE}/{duplicate}")
    form_post(f"{BASE}/{third}/duplikat/{duplicate}", page=f"{BASE}/{third}")
    with app.app_context():
        rows = db.session.execute(
            select(Report.id, Report.duplicate_of_id).where(Report.id.in_([duplicate, third]))
        )
        assert dict(rows.all()) == {duplicate: original, third: original}


def test_unconfirmed_report_cannot_be_an_original(app, auth, form_post, pair, make_report):
    from mangel.models import Report

    _original, duplicate = pair
    hidden = make_report(confirmed_at=None)
    auth.login("a@town.example")
    form_post(f"{BASE}/{duplicate}/duplikat/{hidden}", page=f"{BASE}/{duplicate}")
    with app.app_context():
        assert db.session.get(Report, duplicate).status == "open"
    assert audit_actions(app, duplicate) == []

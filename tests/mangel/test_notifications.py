"""Who is told what in the Mängelmelder (docs/notifications.md, section "Mängelmelder").

Each event is driven through the web UI — the clerk's workbench forms, the citizen's
forms behind the mail links — and the test asserts exactly the mails of the matrix:
recipient, subject and key sentence, and no other mail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lotse.extensions import db
from lotse.models import Department, utcnow
from tests.mailbox import Mailbox
from tests.mangel.conftest import INSIDE, REPORTER
from tests.sinks import free_port

pytestmark = pytest.mark.both_dbs

BASE = "/verwaltung/maengel/meldungen"
FALLBACK = "eingang@town.example"
TIEFBAU = "tiefbau@town.example"
BAUHOF = "bauhof@town.example"
CLERK = "clerk@town.example"
ADMIN = "admin@town.example"
CITIZEN = REPORTER["email"]
FOLLOWER = "fan@example.org"  # supporter who asked to be informed
SILENT = "still@example.org"  # supporter who did not
OTHER = "otto@example.org"  # reporter of the original, in the duplicate case
NORTH = (50.7520, 6.4935)  # inside the Nordviertel, where Bauhof fills potholes
NUDGE = (50.74894, 6.49352)  # about 5 m from INSIDE


def square(lat: float, lon: float, half: float = 0.001) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def app(make_app):
    return make_app(MANGEL_FALLBACK_EMAIL=FALLBACK)


@dataclass
class Town:
    """The demo town of these tests, with a report of Tiefbau that two people support."""

    app: object
    client: object
    form_post: object
    auth: object
    report_id: int = 0
    ids: dict = field(default_factory=dict)

    def as_clerk(self) -> None:
        self.auth.login(CLERK)

    def as_citizen(self) -> None:
        self.auth.logout()

    def page(self) -> str:
        return f"{BASE}/{self.report_id}"

    def post(self, action: str, data: dict | None = None):
        return self.form_post(f"{self.page()}/{action}", data or {}, page=self.page())

    def support(self, email: str, notify: bool) -> None:
        mailbox = Mailbox(mailbox_folder(self.app))
        data = {"email": email, "website": ""} | ({"notify": "y"} if notify else {})
        page = f"/maengel/{self.report_id}"
        self.form_post(f"{page}/unterstuetzen", data, page=page)
        link = path_of(mailbox.latest(to=email), "/bestaetigen/unterstuetzung/")
        assert self.form_post(link).status_code == 302


def mailbox_folder(app):
    from pathlib import Path

    return Path(app.instance_path) / "mail"


def path_of(msg, pattern: str) -> str:
    link = next(link for link in Mailbox.links(msg) if pattern in link)
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.fixture
def town(app, client, form_post, auth, categories, make_user, make_report) -> Town:
    from shapely.geometry import shape

    from mangel.models import Category
    from mangel.routing.areas import store_area
    from mangel.routing.models import RoutingRule

    with app.app_context():
        tiefbau = db.session.scalar(select(Department).where(Department.name == "Tiefbau"))
        bauhof = Department(name="Bauhof/Winterdienst", email=BAUHOF)
        ice = Category(name="Glätte", parent_id=categories["main"], department=bauhof)
        db.session.add(ice)
        area = store_area("Nordviertel", shape(square(*NORTH)))
        db.session.add(RoutingRule(category_id=categories["pothole"], area=area, department=bauhof))
        db.session.commit()
        ids = {"tiefbau": tiefbau.id, "bauhof": bauhof.id, "ice": ice.id, **categories}
    make_user(CLERK, departments=(ids["tiefbau"],), name="Tilda Tiefbau")
    make_user(ADMIN, roles=("admin",), name="Ada Admin")
    state = Town(app, client, form_post, auth, ids=ids)
    state.report_id = make_report(street="Schulstraße", department_id=ids["tiefbau"])
    state.support(FOLLOWER, notify=True)
    state.support(SILENT, notify=False)
    state.as_clerk()
    return state


# --- the events -----------------------------------------------------------------------
# Each takes the town and returns the report number the mails are about.


def accepted(town: Town) -> int:
    assert town.post("annehmen").status_code == 302
    return town.report_id


def status_in_progress(town: Town) -> int:
    data = {"status": "in_progress", "public_note": "Der Bautrupp kommt am Montag."}
    assert town.post("status", data).status_code == 302
    return town.report_id


def status_fixed(town: Town) -> int:
    data = {"status": "fixed", "public_note": "Das Loch ist verfüllt."}
    assert town.post("status", data).status_code == 302
    return town.report_id


def forwarded(town: Town) -> int:
    response = town.post("weiterleiten", {"department_id": str(town.ids["bauhof"])})
    assert_lands_on_page_that_exists(town, response, "an Bauhof/Winterdienst weitergeleitet")
    return town.report_id


def forwarded_in_bulk(town: Town) -> int:
    data = {
        "ids": [str(town.report_id)],
        "department_id": str(town.ids["bauhof"]),
        "status": "",
        "public_note": "",
        "next": f"{BASE}/",
    }
    response = town.form_post(f"{BASE}/sammelaktion", data, page=f"{BASE}/")
    assert_lands_on_page_that_exists(town, response, "geändert")
    return town.report_id


def moved_a_little(town: Town) -> int:
    data = {"lat": str(NUDGE[0]), "lon": str(NUDGE[1])}
    response = town.post("ort", data)
    page = town.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ort korrigiert" in page
    return town.report_id


def moved_to_other_department(town: Town) -> int:
    response = town.post("ort", {"lat": str(NORTH[0]), "lon": str(NORTH[1])})
    assert_lands_on_page_that_exists(town, response, "an Bauhof/Winterdienst weitergeleitet")
    return town.report_id


def recategorised_same_department(town: Town) -> int:
    response = town.post("kategorie", {"category_id": str(town.ids["light"])})
    page = town.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kategorie korrigiert" in page
    return town.report_id


def recategorised_other_department(town: Town) -> int:
    response = town.post("kategorie", {"category_id": str(town.ids["ice"])})
    assert_lands_on_page_that_exists(town, response, "an Bauhof/Winterdienst weitergeleitet")
    return town.report_id


def marked_duplicate(town: Town) -> int:
    from mangel.models import Report, StatusChange

    with town.app.app_context():
        original = Report(
            category_id=town.ids["pothole"],
            department_id=town.ids["tiefbau"],
            lat=INSIDE[0],
            lon=INSIDE[1],
            description="Schlagloch",
            reporter_email=OTHER,
            confirmed_at=utcnow() - timedelta(days=1),
            created_at=utcnow() - timedelta(days=1),
        )
        original.history.append(StatusChange(status="open"))
        db.session.add(original)
        db.session.commit()
        original_id = original.id
    assert town.post(f"duplikat/{original_id}").status_code == 302
    return town.report_id


def asked_is_it_fixed(town: Town) -> int:
    from mangel.routing.models import Delivery

    status_fixed(town)
    town.mailbox = Mailbox(mailbox_folder(town.app))  # the event is the later mail alone
    with town.app.app_context():
        db.session.execute(
            update(Delivery)
            .where(Delivery.report_id == town.report_id, Delivery.purpose == "follow_up")
            .values(next_attempt_at=utcnow())
        )
        db.session.commit()
    town.app.test_cli_runner().invoke(args=["lotse", "sweep"])
    return town.report_id


def reopened(town: Town) -> int:
    from mangel.follow_up import reopen_token

    status_fixed(town)
    with town.app.app_context():
        url = f"/maengel/wieder-oeffnen/{reopen_token(town.report_id)}"
    town.mailbox = Mailbox(mailbox_folder(town.app))
    town.as_citizen()
    assert town.form_post(url).status_code == 302
    return town.report_id


def confirmed_by_citizen(town: Town) -> int:
    from mangel.models import Report

    town.as_citizen()
    town.mailbox = Mailbox(mailbox_folder(town.app))
    report_id = submit_light_report(town)
    link = path_of(latest(town, CITIZEN), "/bestaetigen/meldung/")
    town.mailbox = Mailbox(mailbox_folder(town.app))
    assert town.form_post(link).status_code == 302
    with town.app.app_context():
        assert db.session.get(Report, report_id).confirmed_at is not None
    return report_id


def submitted_by_citizen(town: Town) -> int:
    town.as_citizen()
    return submit_light_report(town)


def supported_with_news(town: Town) -> int:
    town.as_citizen()
    page = f"/maengel/{town.report_id}"
    data = {"email": "neu@example.org", "notify": "y", "website": ""}
    town.form_post(f"{page}/unterstuetzen", data, page=page)
    return town.report_id


def supported_without_news(town: Town) -> int:
    town.as_citizen()
    page = f"/maengel/{town.report_id}"
    data = {"email": "neu@example.org", "website": ""}
    town.form_post(f"{page}/unterstuetzen", data, page=page)
    return town.report_id


def delivery_failed_for_good(town: Town) -> int:
    from mangel.routing.models import Delivery, DeliveryState, DepartmentEndpoint

    with town.app.app_context():
        db.session.add(
            DepartmentEndpoint(
                department_id=town.ids["tiefbau"],
                webhook_url=f"http://127.0.0.1:{free_port()}/nichts",
                webhook_secret="geheim",
            )
        )
        db.session.commit()
    town.app.config["MANGEL_DELIVERY_MAX_ATTEMPTS"] = 1
    report_id = confirmed_by_citizen(town)
    with town.app.app_context():
        states = db.session.scalars(
            select(Delivery.state).where(
                Delivery.report_id == report_id, Delivery.purpose == "department"
            )
        ).all()
    assert states == [DeliveryState.FAILED.value]
    town.mailbox = Mailbox(mailbox_folder(town.app))
    town.app.test_cli_runner().invoke(args=["lotse", "sweep"])
    return report_id


def submit_light_report(town: Town) -> int:
    from mangel.models import Report

    data = {
        "category": str(town.ids["light"]),
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "description": "Die Laterne vor Haus 12 ist seit Tagen dunkel.",
        "q_mastnummer": "KR-4711",
        "q_art": "1",
        "name": REPORTER["name"],
        "email": CITIZEN,
        "phone": "",
        "consent": "y",
        "website": "",
    }
    page = f"/maengel/neu/angaben?category={data['category']}&lat={INSIDE[0]}&lon={INSIDE[1]}&new=1"
    response = town.form_post(
        "/maengel/neu/angaben", data, page=page, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with town.app.app_context():
        return db.session.scalar(select(Report.id).order_by(Report.id.desc()).limit(1))


def latest(town: Town, to: str):
    return town.mailbox.latest(to=to)


def assert_lands_on_page_that_exists(town: Town, response, message: str) -> None:
    """After handing a report on, the clerk lands on a page they may see, told what happened."""
    assert response.status_code == 302
    page = town.client.get(response.headers["Location"])
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)


# --- the matrix -----------------------------------------------------------------------
# (event, [(address, subject, key sentence)]); "{id}" is the report's number.

DEPARTMENT_SUBJECT = "Meldung Nr. {id}: Straßen und Wege – "
TOLD_FORWARDED = (
    CITIZEN,
    "Ihre Meldung Nr. {id} wurde weitergeleitet",
    "an Bauhof/Winterdienst weitergeleitet",
)
MATRIX = {
    "submitted": (
        submitted_by_citizen,
        [(CITIZEN, "Bitte bestätigen Sie Ihre Meldung an", "Bitte bestätigen Sie Ihre Meldung")],
    ),
    "confirmed": (
        confirmed_by_citizen,
        [
            (CITIZEN, "Ihre Meldung Nr. {id} ist eingegangen", "privaten Link"),
            (TIEFBAU, DEPARTMENT_SUBJECT + "Straßenbeleuchtung defekt", "Was ist los?: dunkel"),
        ],
    ),
    "supported, wants news": (
        supported_with_news,
        [
            (
                "neu@example.org",
                "Bitte bestätigen Sie Ihre Unterstützung",
                "Ihre E-Mail-Adresse speichern wir, um Sie über den weiteren Stand",
            )
        ],
    ),
    "supported, no news": (
        supported_without_news,
        [
            (
                "neu@example.org",
                "Bitte bestätigen Sie Ihre Unterstützung",
                "Ihre E-Mail-Adresse speichern wir nicht",
            )
        ],
    ),
    "accepted": (accepted, []),
    "status with public note": (
        status_in_progress,
        [
            (CITIZEN, "Neuer Stand Ihrer Meldung Nr. {id}", "Der Bautrupp kommt am Montag."),
            (FOLLOWER, "Neuer Stand der Meldung Nr. {id}", "Der Bautrupp kommt am Montag."),
        ],
    ),
    "closed": (
        status_fixed,
        [
            (CITIZEN, "Neuer Stand Ihrer Meldung Nr. {id}", "neuen Stand: erledigt"),
            (FOLLOWER, "Neuer Stand der Meldung Nr. {id}", "Das Loch ist verfüllt."),
        ],
    ),
    "forwarded": (
        forwarded,
        [(BAUHOF, DEPARTMENT_SUBJECT + "Schlagloch", "Anlass: weitergeleitet"), TOLD_FORWARDED],
    ),
    "forwarded in bulk": (
        forwarded_in_bulk,
        [(BAUHOF, DEPARTMENT_SUBJECT + "Schlagloch", "Anlass: weitergeleitet"), TOLD_FORWARDED],
    ),
    "moved, same department": (moved_a_little, []),
    "moved, other department": (
        moved_to_other_department,
        [(BAUHOF, DEPARTMENT_SUBJECT + "Schlagloch", "Anlass: Ort geändert"), TOLD_FORWARDED],
    ),
    "recategorised, same department": (recategorised_same_department, []),
    "recategorised, other department": (
        recategorised_other_department,
        [(BAUHOF, DEPARTMENT_SUBJECT + "Glätte", "Anlass: Kategorie geändert"), TOLD_FORWARDED],
    ),
    "marked duplicate": (
        marked_duplicate,
        [
            (CITIZEN, "Neuer Stand Ihrer Meldung Nr. {id}", "ist ein Duplikat von Meldung"),
            (FOLLOWER, "Neuer Stand der Meldung Nr. {id}", "ist ein Duplikat von Meldung"),
        ],
    ),
    "Ist es behoben?": (
        asked_is_it_fixed,
        [(CITIZEN, "Ist es behoben? Ihre Meldung Nr. {id}", "Ist der Mangel behoben?")],
    ),
    "reopened": (
        reopened,
        [(TIEFBAU, DEPARTMENT_SUBJECT + "Schlagloch", "Anlass: von der meldenden Person")],
    ),
    "delivery failed for good": (
        delivery_failed_for_good,
        [(ADMIN, "Mängelmelder: 1 Zustellungen hängen", "nicht angekommen")],
    ),
}


@pytest.mark.parametrize("event", MATRIX)
def test_who_is_told_what(town, event):
    action, expected = MATRIX[event]
    town.mailbox = Mailbox(mailbox_folder(town.app))
    report_id = action(town)
    mails = town.mailbox.messages()
    got = sorted((str(m["To"]), str(m["Subject"])) for m in mails)
    want = sorted((to, subject.format(id=report_id)) for to, subject, _key in expected)
    assert [to for to, _s in got] == [to for to, _s in want], got
    for (to, subject), (_to, wanted) in zip(got, want, strict=True):
        assert subject.startswith(wanted), (to, subject, wanted)
    for to, _subject, key in expected:
        [msg] = [m for m in mails if str(m["To"]) == to]
        assert key in " ".join(Mailbox.text(msg).split()), (to, Mailbox.text(msg))


def test_followers_of_a_duplicate_follow_the_original(town):
    """After Duplikat, a status change of the original reaches the duplicate's people."""
    marked_duplicate(town)
    from mangel.models import Report

    with town.app.app_context():
        original_id = db.session.get(Report, town.report_id).duplicate_of_id
    town.mailbox = Mailbox(mailbox_folder(town.app))
    page = f"{BASE}/{original_id}"
    data = {"status": "in_progress", "public_note": "Wir sind dran."}
    town.form_post(f"{page}/status", data, page=page)
    got = sorted(str(m["To"]) for m in town.mailbox.messages())
    assert got == sorted([OTHER, CITIZEN, FOLLOWER])


def test_citizen_tracking_page_names_the_new_department(town):
    """The reporter's own page says who is responsible now."""
    from mangel import services
    from mangel.models import Report

    with town.app.app_context():
        token = services.issue_tracking_token(db.session.get(Report, town.report_id))
        db.session.commit()
    forwarded(town)
    page = town.client.get(f"/maengel/verfolgen/{token}").get_data(as_text=True)
    assert "Bauhof/Winterdienst" in page


def test_webhook_payload_carries_readable_answers(town):
    """Departments with a system of their own get the answers as label and option too."""
    from mangel.models import Report
    from mangel.routing.delivery import webhook_payload
    from mangel.routing.models import Delivery

    report_id = confirmed_by_citizen(town)
    with town.app.app_context():
        delivery = db.session.scalar(select(Delivery).where(Delivery.report_id == report_id))
        payload = webhook_payload(delivery)
        assert db.session.get(Report, report_id).answers == {"mastnummer": "KR-4711", "art": "1"}
    assert payload["report"]["answers"] == {"mastnummer": "KR-4711", "art": "1"}
    assert payload["report"]["answer_labels"] == [
        {"question": "Mastnummer", "value": "KR-4711"},
        {"question": "Was ist los?", "value": "dunkel"},
    ]
    json.dumps(payload)


def test_answers_read_as_question_and_option_everywhere(town):
    """Workbench, department mail (text and HTML), CSV and Open311 show "Was ist los?: dunkel"."""
    report_id = confirmed_by_citizen(town)
    mail = town.mailbox.latest(to=TIEFBAU)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Was ist los?:</th><td>dunkel" in html and "art" not in html.split("<table>")[1][:400]
    town.as_clerk()
    page = f"{BASE}/{report_id}"
    text = town.client.get(page).get_data(as_text=True)
    assert "<strong>Was ist los?:</strong> dunkel" in text
    assert "<strong>Mastnummer:</strong> KR-4711" in text
    csv = town.client.get(f"{BASE}/export.csv?status=alle").get_data(as_text=True)
    assert "Mastnummer: KR-4711; Was ist los?: dunkel" in csv
    stats = town.client.get(f"{BASE[: -len('/meldungen')]}/statistik").get_data(as_text=True)
    assert '<th scope="row">Was ist los?</th><td>dunkel</td><td>1</td>' in stats
    assert "KR-4711" not in stats  # free text does not add up
    data = {"description": "Laterne dunkel", "description_released": "y"}
    town.form_post(f"{page}/freigabe", data, page=page)
    [request] = town.client.get(f"/open311/v2/requests/{report_id}.json?extensions=true").json
    assert request["extended_attributes"]["answers"] == [
        {"question": "Mastnummer", "value": "KR-4711"},
        {"question": "Was ist los?", "value": "dunkel"},
    ]
    xml = town.client.get(f"/open311/v2/requests/{report_id}.xml?extensions=true")
    assert xml.status_code == 200
    body = xml.get_data(as_text=True)
    assert "<answer><question>Was ist los?</question><value>dunkel</value></answer>" in body

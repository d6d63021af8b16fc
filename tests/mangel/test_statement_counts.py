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


def _photo_and_supporter(rid: int) -> list:
    """A released photo and a confirmed supporter of report ``rid``."""
    from mangel.models import ReportPhoto, Support

    return [
        ReportPhoto(
            report_id=rid, file_name=f"p{rid}.jpg", thumb_name=f"t{rid}.jpg", width=10, height=10
        ),
        Support(report_id=rid, email_hash=f"h{rid}", confirmed_at=utcnow()),
    ]


@pytest.fixture
def add_reports(app, make_report, staff):  # noqa: F811
    """Add ``n`` public reports, each with history, a released photo and a supporter."""
    from mangel.models import StatusChange

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
                        *_photo_and_supporter(rid),
                    ]
                )
            db.session.commit()

    return add


def _counts(client, app, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        app.extensions.pop("mangel_figures", None)  # the public figures keep ten minutes
        counts[url] = len(statements_for(client, app, url))
    return counts


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


# --- every other list, grown in what it lists -----------------------------------------

ADMIN = "admin@town.example"
# url → most statements; the admin sees every department, so nothing is filtered away.
GROWN_PUBLIC = {
    "/maengel/": 3,
    "/maengel/feed.atom": 2,
    "/maengel/offene-daten/meldungen.csv": 2,
    "/maengel/offene-daten/meldungen.geojson": 2,
    "/maengel/zahlen": 3,
    "/maengel/neu": 2,
    "/maengel/benachrichtigungen": 3,
    "/maengel/benachrichtigungen/feed.atom?lat=50.7489&lon=6.4935&radius=500": 2,
    "/open311/v2/services.json": 3,
    "/open311/v2/services.xml": 3,
    "/open311/v2/requests.xml": 3,
    "/open311/v2/requests.json?extensions=true&status=open,closed": 5,
}
GROWN_STAFF = {
    "/verwaltung/": 3,
    "/verwaltung/admin/fachbereiche": 4,
    "/verwaltung/admin/personal": 6,
    f"{WORKBENCH}/?status=alle": 9,
    f"{WORKBENCH}/karte?status=alle": 4,
    f"{WORKBENCH}/export.csv?status=alle": 5,
    f"{WORKBENCH}/export-systeme.csv?status=alle": 5,
    "/verwaltung/maengel/statistik?group=kategorie": 5,
    "/verwaltung/maengel/statistik?group=abteilung": 5,
    "/verwaltung/maengel/akte?strasse=Hauptstr.": 9,
    "/verwaltung/maengel/api-schluessel/": 6,
    "/verwaltung/maengel/erfassen": 5,
    "/verwaltung/maengel/kategorien": 6,
    "/verwaltung/maengel/textbausteine": 5,
    "/verwaltung/maengel/webhooks": 5,
    "/verwaltung/maengel/zustaendigkeit": 7,
    "/verwaltung/maengel/zustaendigkeit/strassen": 7,
    "/verwaltung/maengel/zustellungen": 5,
}


@pytest.fixture
def grow(app, make_report, make_user, staff):  # noqa: F811
    """Add ``n`` of everything the Mängelmelder lists: departments with a webhook and a
    clerk, a main category with a leaf (its department, two questions, a response template,
    an area rule, a road rule) and a public report in it (history, photo, supporter, a
    note, an audit entry, a stuck delivery and a stuck mail), an area, a road, an API key."""
    from lotse.models import Department
    from lotse.outbox import OutboxMail
    from mangel.models import Category, CategoryQuestion, StatusChange
    from mangel.open311.apikey_models import ApiKey
    from mangel.routing.models import Area, Delivery, DepartmentEndpoint, RoutingRule
    from mangel.routing.roads import Road, RoadRule
    from mangel.workbench.models import AuditEntry, InternalNote, ResponseTemplate

    square = [[6.48, 50.74], [6.50, 50.74], [6.50, 50.76], [6.48, 50.76], [6.48, 50.74]]
    road = {"type": "LineString", "coordinates": [[6.48, 50.745], [6.50, 50.745]]}
    done = [0]

    def add(n: int) -> None:
        first, done[0] = done[0], done[0] + n
        for i in range(first, first + n):
            with app.app_context():
                department = Department(name=f"Amt {i}", email=f"amt{i}@town.example")
                main = Category(name=f"Gruppe {i}")
                leaf = Category(name=f"Art {i}", parent=main, department=department)
                leaf.questions = [
                    CategoryQuestion(code=f"q{i}", label=f"Frage {i}", datatype="string"),
                    CategoryQuestion(
                        code=f"w{i}",
                        label=f"Wahl {i}",
                        datatype="singlevaluelist",
                        options=[{"key": "1", "name": "ja"}],
                    ),
                ]
                area = Area(
                    name=f"Ortsteil {i}",
                    geojson={"type": "Polygon", "coordinates": [square]},
                    min_lat=50.74,
                    min_lon=6.48,
                    max_lat=50.76,
                    max_lon=6.50,
                )
                db.session.add(leaf)
                db.session.flush()
                db.session.add_all(
                    [
                        DepartmentEndpoint(
                            department_id=department.id,
                            webhook_url=f"https://amt{i}.example/hook",
                            webhook_secret="s" * 32,
                        ),
                        RoutingRule(category=leaf, area=area, department=department),
                        RoadRule(road_class="K", category=leaf, department=department),
                        Road(
                            road_class="K",
                            number=f"K {i}",
                            geojson=road,
                            min_lat=50.745,
                            max_lat=50.745,
                            min_lon=6.48,
                            max_lon=6.50,
                        ),
                        ResponseTemplate(title=f"Vorlage {i}", text="Erledigt.", category=leaf),
                        ApiKey(name=f"App {i}", key_hash=f"{i:064d}", key_prefix=f"k{i}"),
                    ]
                )
                db.session.commit()
                department_id, leaf_id = department.id, leaf.id
            make_user(f"clerk{i}@town.example", departments=(department_id,), name=f"Clerk {i}")
            rid = make_report(
                category_id=leaf_id,
                department_id=department_id,
                photos_released=True,
                street="Hauptstr.",
                answers={f"q{i}": "42", f"w{i}": "1"},
            )
            with app.app_context():
                change = StatusChange(report_id=rid, status="in_progress", public_note="Dran")
                db.session.add_all(
                    [
                        change,
                        *_photo_and_supporter(rid),
                        InternalNote(report_id=rid, text="intern"),
                        AuditEntry(report_id=rid, action="note", detail=""),
                        Delivery(
                            report_id=rid,
                            department_id=department_id,
                            recipient=f"amt{i}@town.example",
                            state="failed",
                            attempts=5,
                            last_error="550 mailbox unavailable",
                            idempotency_key=f"d{rid}",
                        ),
                        OutboxMail(
                            kind="mangel.confirm",
                            ref=f"report:{rid}",
                            recipient="erika@example.org",
                            subject="Bitte bestätigen",
                            attempts=5,
                            failed_at=utcnow(),
                            last_error="550",
                        ),
                    ]
                )
                db.session.commit()

    return add


def _assert_same_cost(client, app, auth, grow, public: dict, staff_pages: dict) -> None:
    """Statements per URL with 2 and with 12 of what grows (public pages anonymous, staff
    pages as the admin): equal, and none over the URL's limit."""
    grow(2)
    few = _counts(client, app, public)
    auth.login(ADMIN)
    few |= _counts(client, app, staff_pages)
    grow(10)
    many = _counts(client, app, staff_pages)
    auth.logout()
    many |= _counts(client, app, public)
    assert many == few
    limits = public | staff_pages
    over = {url: n for url, n in many.items() if n > limits[url]}
    assert not over, over


def test_every_list_costs_the_same_for_two_and_twelve_of_everything(client, app, auth, grow):
    """Public and staff lists, grown in departments, categories, reports, rules, keys …"""
    _assert_same_cost(client, app, auth, grow, GROWN_PUBLIC, GROWN_STAFF)


def test_a_report_page_costs_the_same_for_two_and_twelve_steps(
    client,
    app,
    auth,
    make_report,
    staff,  # noqa: F811
):
    """A report's public page, tracking page, workbench page and dossier, with 2 and 12
    status changes (by staff), photos, supporters, notes, audit entries and deliveries."""
    from lotse.models import User
    from mangel.models import Report, ReportPhoto, StatusChange, Support
    from mangel.routing.models import Delivery
    from mangel.services import issue_tracking_token
    from mangel.workbench.models import AuditEntry, InternalNote

    rid = make_report(department_id=staff["tiefbau"], photos_released=True, street="Hauptstr.")
    with app.app_context():
        token = issue_tracking_token(db.session.get(Report, rid))
        db.session.commit()
    done = [0]

    def add(n: int) -> None:
        with app.app_context():
            clerks = [
                db.session.scalar(db.select(User.id).where(User.email == e))
                for e in ("a@town.example", "admin@town.example")
            ]
            for i in range(done[0], done[0] + n):
                clerk = clerks[i % 2]
                db.session.add_all(
                    [
                        StatusChange(
                            report_id=rid,
                            status="in_progress",
                            public_note=f"Schritt {i}",
                            staff_user_id=clerk,
                        ),
                        ReportPhoto(
                            report_id=rid,
                            file_name=f"p{i}.jpg",
                            thumb_name=f"t{i}.jpg",
                            width=10,
                            height=10,
                        ),
                        Support(report_id=rid, email_hash=f"h{i}", confirmed_at=utcnow()),
                        InternalNote(report_id=rid, text=f"intern {i}", staff_user_id=clerk),
                        AuditEntry(report_id=rid, action="note", staff_user_id=clerk),
                        Delivery(
                            report_id=rid,
                            department_id=staff["tiefbau"] if i % 2 else staff["green"],
                            recipient="amt@town.example",
                            state="sent",
                            sent_at=utcnow(),
                            idempotency_key=f"s{i}",
                        ),
                    ]
                )
            db.session.commit()
        done[0] += n

    public = {
        f"/maengel/{rid}": 8,
        f"/maengel/verfolgen/{token}": 9,
        f"/open311/v2/requests/{rid}.json": 3,
    }
    workbench = {
        f"{WORKBENCH}/{rid}": 21,
        f"{WORKBENCH}/{rid}/akte": 15,
    }
    _assert_same_cost(client, app, auth, add, public, workbench)

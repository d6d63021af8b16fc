"""Who is told what about bookings (docs/notifications.md, "Buchung"): every event through the
web UI, and exactly the mails the matrix names — recipients, subject, key sentence and the
calendar file (METHOD:REQUEST while a booking stands, METHOD:CANCEL with the same UID after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from buchung.club_models import Club, ClubMember
from buchung.models import Booking, BookingStatus
from lotse.extensions import db
from lotse.models import utcnow
from tests.buchung.conftest import next_weekday, series_data
from tests.buchung.test_rules import booking_data
from tests.mailbox import Mailbox

pytestmark = pytest.mark.both_dbs

GUEST = "gabi@example.org"
TRAINER = "trainer@tv.example"
TREASURER = "kasse@tv.example"  # the club's second login
CLUB = {TRAINER, TREASURER}
OFFICE = "sport@town.example"
DAY = next_weekday(3)
MONDAY = next_weekday(0)


@dataclass
class Expected:
    """One mail the matrix names."""

    to: set[str]
    subject: str
    sentence: str
    method: str | None = None  # the .ics METHOD, None when the mail has no calendar file
    bookings: list[int] = field(default_factory=list)  # the booking ids its events carry


@dataclass
class World:
    app: object
    client: object
    form_post: Callable
    office: Callable
    make_resource: Callable
    make_club: Callable
    club_login: Callable
    folder: Path
    box: Mailbox | None = None

    def reset(self) -> None:
        """Forget the mail sent while setting up; what follows is the event under test."""
        self.box = Mailbox(self.folder)

    def logout(self, page: str = "/") -> None:
        self.form_post("/abmelden", page=page)

    def bookings(self, **where) -> list[int]:
        with self.app.app_context():
            query = select(Booking.id).order_by(Booking.starts_at, Booking.id)
            for key, value in where.items():
                query = query.where(getattr(Booking, key) == value)
            return list(db.session.scalars(query))

    # --- the steps people take -------------------------------------------------------------

    def guest_books(self, resource_id: int) -> str:
        box = Mailbox(self.folder)
        response = self.form_post(f"/buchung/{resource_id}/buchen", booking_data(DAY))
        assert response.status_code == 302, response.get_data(as_text=True)
        (link,) = {
            urlsplit(u).path for u in Mailbox.links(box.latest(to=GUEST)) if "/buchung/b/" in u
        }
        return link

    def guest_confirms(self, link: str) -> None:
        assert self.form_post(f"{link}/bestaetigen", {}, page=link).status_code == 302

    def club(self, approval: bool = False) -> dict[str, int]:
        ids = self.make_club()
        with self.app.app_context():
            member = ClubMember(club_id=ids["club"], name="Kai Kasse", email=TREASURER)
            member.set_password("kassenpasswort")
            member.confirmed_at = utcnow()
            db.session.add(member)
            db.session.commit()
        ids["hall"] = self.make_resource("Sporthalle Nord", kind="hall", needs_approval=approval)
        return ids

    def club_books_series(self, hall: int, weeks: int = 3) -> None:
        self.club_login()
        last = MONDAY.fromordinal(MONDAY.toordinal() + 7 * (weeks - 1))
        data = series_data(hall, MONDAY, last, book_free="1")
        response = self.form_post("/buchung/verein/serie/neu", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        self.logout("/buchung/verein/")

    def office_decides(self, booking_id: int, action: str, reason: str = "") -> None:
        detail = f"/verwaltung/buchung/buchungen/{booking_id}"
        if action == "genehmigen":
            response = self.form_post(f"{detail}/genehmigen", {"approve-submit": "1"}, page=detail)
        else:
            prefix = "decline" if action == "ablehnen" else "cancel"
            response = self.form_post(
                f"{detail}/{action}", {f"{prefix}-reason": reason}, page=detail
            )
        assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def world(app, client, form_post, office, make_resource, make_club, club_login) -> World:
    return World(
        app,
        client,
        form_post,
        office,
        make_resource,
        make_club,
        club_login,
        Path(app.instance_path) / "mail",
    )


# --- the events ------------------------------------------------------------------------------


def guest_held(w: World) -> list[Expected]:
    resource = w.make_resource()
    w.reset()
    w.guest_books(resource)
    return [Expected({GUEST}, "Bitte bestätigen Sie Ihre Buchung", "mit diesem Link", "REQUEST")]


def guest_confirmed(w: World) -> list[Expected]:
    link = w.guest_books(w.make_resource())
    w.reset()
    w.guest_confirms(link)
    return [
        Expected(
            {GUEST}, "Ihre Buchung ist bestätigt", "Online stornieren können Sie bis", "REQUEST"
        )
    ]


def request_received(w: World) -> list[Expected]:
    link = w.guest_books(w.make_resource(needs_approval=True))
    w.reset()
    w.guest_confirms(link)
    return [
        Expected({GUEST}, "Ihre Buchungsanfrage ist eingegangen", "Ihre Anfrage ist eingegangen"),
        Expected({OFFICE}, "Neue Buchungsanfrage", "wartet auf Ihre Entscheidung"),
    ]


def guest_approved(w: World) -> list[Expected]:
    w.guest_confirms(w.guest_books(w.make_resource(needs_approval=True)))
    (booking,) = w.bookings()
    w.office()
    w.reset()
    w.office_decides(booking, "genehmigen")
    return [
        Expected(
            {GUEST},
            "Ihre Buchungsanfrage ist genehmigt",
            "hat Ihre Anfrage genehmigt",
            "REQUEST",
            [booking],
        )
    ]


def guest_declined(w: World) -> list[Expected]:
    w.guest_confirms(w.guest_books(w.make_resource(needs_approval=True)))
    (booking,) = w.bookings()
    w.office()
    w.reset()
    w.office_decides(booking, "ablehnen", "Hallenfest")
    return [
        Expected(
            {GUEST},
            "Ihre Buchungsanfrage ist abgelehnt",
            "Begründung: Hallenfest",
            "CANCEL",
            [booking],
        )
    ]


def guest_cancels(w: World) -> list[Expected]:
    link = w.guest_books(w.make_resource())
    w.guest_confirms(link)
    (booking,) = w.bookings()
    w.reset()
    assert w.form_post(f"{link}/stornieren", {"sure": "1"}, page=link).status_code == 302
    return [Expected({GUEST}, "Ihre Buchung ist storniert", "ist storniert", "CANCEL", [booking])]


def office_cancels_guest(w: World) -> list[Expected]:
    w.guest_confirms(w.guest_books(w.make_resource()))
    (booking,) = w.bookings()
    w.office()
    w.reset()
    w.office_decides(booking, "stornieren", "Wasserschaden")
    return [
        Expected(
            {GUEST}, "Ihre Buchung ist storniert", "Begründung: Wasserschaden", "CANCEL", [booking]
        )
    ]


def club_series_booked(w: World) -> list[Expected]:
    ids = w.club()
    w.reset()
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    return [Expected(CLUB, "Ihre Serie ist eingetragen", "3 Termine", "REQUEST", dates)]


def club_series_requested(w: World) -> list[Expected]:
    ids = w.club(approval=True)
    w.reset()
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    return [
        Expected(CLUB, "Ihre Serie ist eingetragen", "angefragt", "REQUEST", dates),
        Expected({OFFICE}, "Neue Serienanfrage", "TV Musterstadt"),
    ]


def club_date_approved(w: World) -> list[Expected]:
    ids = w.club(approval=True)
    w.club_books_series(ids["hall"])
    first = w.bookings(club_id=ids["club"])[0]
    w.office()
    w.reset()
    w.office_decides(first, "genehmigen")
    return [
        Expected(
            CLUB,
            "Ihre Buchungsanfrage ist genehmigt",
            "Guten Tag TV Musterstadt",
            "REQUEST",
            [first],
        )
    ]


def club_date_declined(w: World) -> list[Expected]:
    ids = w.club(approval=True)
    w.club_books_series(ids["hall"])
    first = w.bookings(club_id=ids["club"])[0]
    w.office()
    w.reset()
    w.office_decides(first, "ablehnen", "Turnier")
    return [
        Expected(
            CLUB, "Ihre Buchungsanfrage ist abgelehnt", "Begründung: Turnier", "CANCEL", [first]
        )
    ]


def office_cancels_club(w: World) -> list[Expected]:
    ids = w.club()
    w.club_books_series(ids["hall"])
    first = w.bookings(club_id=ids["club"])[0]
    w.office()
    w.reset()
    w.office_decides(first, "stornieren", "Wasserschaden")
    return [
        Expected(CLUB, "Ihre Buchung ist storniert", "Begründung: Wasserschaden", "CANCEL", [first])
    ]


def club_releases(w: World) -> list[Expected]:
    ids = w.club()
    w.club_books_series(ids["hall"])
    first = w.bookings(club_id=ids["club"])[0]
    w.club_login()
    w.reset()
    w.form_post(f"/buchung/verein/termin/{first}/faellt-aus", page="/buchung/verein/")
    return [Expected(CLUB, "Ihre Buchung ist storniert", "ist storniert", "CANCEL", [first])]


def club_cancels_the_rest(w: World) -> list[Expected]:
    ids = w.club()
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    with w.app.app_context():
        series_id = db.session.get(Booking, dates[0]).series_id
    w.club_login()
    w.reset()
    page = f"/buchung/verein/serie/{series_id}"
    assert w.form_post(f"{page}/absagen", page=page).status_code == 302
    return [Expected(CLUB, "Ihre Termine sind abgesagt", "3 kommende Termine", "CANCEL", dates)]


def club_moves(w: World) -> list[Expected]:
    ids = w.club()
    w.club_books_series(ids["hall"])
    first = w.bookings(club_id=ids["club"])[0]
    w.club_login()
    w.reset()
    url = f"/buchung/verein/termin/{first}/verschieben"
    data = {"day": MONDAY.isoformat(), "start": "17:00", "end": "19:00"}
    assert w.form_post(url, data).status_code == 302
    return [Expected(CLUB, "Ihr Termin ist verschoben", "17:00", "REQUEST", [first])]


def series_approved_at_once(w: World) -> list[Expected]:
    ids = w.club(approval=True)
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    w.office()
    w.reset()
    response = w.form_post(
        "/verwaltung/buchung/anfragen",
        {"booking_ids": [str(i) for i in dates], "decision": "approve", "reason": ""},
        page="/verwaltung/buchung/",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return [Expected(CLUB, "Ihre Termine sind genehmigt", "3 Termine", "REQUEST", dates)]


def series_declined_at_once(w: World) -> list[Expected]:
    ids = w.club(approval=True)
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    w.office()
    w.reset()
    response = w.form_post(
        "/verwaltung/buchung/anfragen",
        {"booking_ids": [str(i) for i in dates[:2]], "decision": "decline", "reason": "Umbau"},
        page="/verwaltung/buchung/",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return [
        Expected(
            CLUB, "Ihre Terminanfragen sind abgelehnt", "Begründung: Umbau", "CANCEL", dates[:2]
        )
    ]


def closure_cancels(w: World) -> list[Expected]:
    ids = w.club()
    w.club_books_series(ids["hall"])
    dates = w.bookings(club_id=ids["club"])
    w.office()
    response = w.form_post(
        "/verwaltung/buchung/sperrzeiten/neu",
        {
            "resource_id": ids["hall"],
            "title": "Hallenboden",
            "start_day": MONDAY.isoformat(),
            "start_time": "",
            "end_day": MONDAY.fromordinal(MONDAY.toordinal() + 7).isoformat(),
            "end_time": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = response.headers["Location"]
    w.reset()
    response = w.form_post(
        f"{urlsplit(page).path}/betroffene",
        {"booking_ids": [str(i) for i in dates[:2]], "reason": "Der Boden wird versiegelt."},
        page=page,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return [
        Expected(
            CLUB,
            "Termine fallen aus: Hallenboden",
            "Der Boden wird versiegelt.",
            "CANCEL",
            dates[:2],
        )
    ]


def club_registered(w: World) -> list[Expected]:
    w.make_resource("Sporthalle Nord", kind="hall")
    w.reset()
    response = w.form_post(
        "/buchung/verein/registrieren",
        {
            "club_name": "SV Blau-Weiß",
            "register_number": "VR 42",
            "contact_persons": "Olaf Obmann, 0123 456",
            "name": "Olaf Obmann",
            "email": "olaf@sv.example",
            "password": "sehr-geheim-123",
        },
    )
    assert response.status_code == 200
    return [
        Expected({"olaf@sv.example"}, "Bitte bestätigen Sie Ihre E-Mail-Adresse", "bestaetigen"),
        Expected({OFFICE}, "Neuer Verein angemeldet", "SV Blau-Weiß"),
    ]


def _unapproved_club(w: World) -> int:
    w.make_resource("Sporthalle Nord", kind="hall")
    ids = w.make_club(approved=False)
    w.office()
    w.reset()
    return ids["club"]


def club_approved(w: World) -> list[Expected]:
    club = _unapproved_club(w)
    w.form_post(f"/verwaltung/buchung/vereine/{club}/freigeben", page="/verwaltung/buchung/vereine")
    return [Expected({TRAINER}, "Ihr Verein ist freigegeben", "freigegeben")]


def club_rejected(w: World) -> list[Expected]:
    club = _unapproved_club(w)
    response = w.form_post(
        f"/verwaltung/buchung/vereine/{club}/ablehnen",
        {"reject-reason": "Kein eingetragener Verein."},
        page="/verwaltung/buchung/vereine",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with w.app.app_context():
        assert db.session.get(Club, club) is None  # a rejected registration is gone
    return [
        Expected({TRAINER}, "Ihre Vereinsanmeldung ist abgelehnt", "Kein eingetragener Verein.")
    ]


def waitlist_joined(w: World) -> list[Expected]:
    hall = w.make_resource()
    w.guest_books(hall)
    w.reset()
    response = w.form_post(
        f"/buchung/{hall}/warteliste",
        {
            "day": DAY.isoformat(),
            "start": "10:00",
            "end": "11:00",
            "name": "Wanda Wartet",
            "email": "wanda@example.org",
        },
    )
    assert response.status_code == 302
    return [Expected({"wanda@example.org"}, "Sie stehen auf der Warteliste", "austragen")]


def waitlist_offered(w: World) -> list[Expected]:
    hall = w.make_resource()
    link = w.guest_books(hall)
    w.guest_confirms(link)
    wait = {"day": DAY.isoformat(), "start": "10:00", "end": "11:00"}
    wanda = {"name": "Wanda Wartet", "email": "wanda@example.org"}
    assert w.form_post(f"/buchung/{hall}/warteliste", {**wait, **wanda}).status_code == 302
    (booking,) = w.bookings()
    w.reset()
    assert w.form_post(f"{link}/stornieren", {"sure": "1"}, page=link).status_code == 302
    offer = w.bookings()[-1]
    return [
        Expected({GUEST}, "Ihre Buchung ist storniert", "ist storniert", "CANCEL", [booking]),
        Expected(
            {"wanda@example.org"},
            "Ein Termin von der Warteliste ist frei geworden",
            "Wir halten sie bis",
            "REQUEST",
            [offer],
        ),
    ]


EVENTS = [
    guest_held,
    guest_confirmed,
    request_received,
    guest_approved,
    guest_declined,
    guest_cancels,
    office_cancels_guest,
    club_series_booked,
    club_series_requested,
    club_date_approved,
    club_date_declined,
    office_cancels_club,
    club_releases,
    club_cancels_the_rest,
    club_moves,
    series_approved_at_once,
    series_declined_at_once,
    closure_cancels,
    club_registered,
    club_approved,
    club_rejected,
    waitlist_joined,
    waitlist_offered,
]


def _recipients(msg) -> set[str]:
    return {address.lower() for _, address in getaddresses([str(msg["To"])])}


def _calendar(msg) -> Calendar | None:
    files = [p for p in msg.iter_attachments() if p.get_filename() == "buchung.ics"]
    assert len(files) <= 1
    return Calendar.from_ical(files[0].get_content()) if files else None


@pytest.mark.parametrize("event", EVENTS, ids=lambda f: f.__name__)
def test_who_is_told_what(world, event):
    expected = event(world)
    sent = world.box.messages()
    got = sorted((sorted(_recipients(m)), str(m["Subject"])) for m in sent)
    want = sorted((sorted(e.to), e.subject) for e in expected)
    assert got == want
    for e in expected:
        (msg,) = [m for m in sent if _recipients(m) == e.to and m["Subject"] == e.subject]
        text = Mailbox.text(msg)
        assert e.sentence in text, text
        calendar = _calendar(msg)
        if e.method is None:
            continue
        assert calendar is not None, f"{e.subject}: no calendar file"
        assert str(calendar["method"]) == e.method
        host = "localhost"
        uids = [str(v["uid"]) for v in calendar.walk("VEVENT")]
        if e.bookings:
            assert uids == [f"buchung-{i}@{host}" for i in e.bookings]
        if e.method == "CANCEL":
            assert all(str(v["status"]) == "CANCELLED" for v in calendar.walk("VEVENT"))


def test_staff_see_the_club_everywhere(world):
    """The booking detail, the calendar and the request queue name the club and its contact."""
    ids = world.club(approval=True)
    world.club_books_series(ids["hall"])
    first = world.bookings(club_id=ids["club"])[0]
    world.office()
    detail = world.client.get(f"/verwaltung/buchung/buchungen/{first}").get_data(as_text=True)
    for text in ("TV Musterstadt", "Tina Trainer", TRAINER, TREASURER):
        assert text in detail
    calendar = world.client.get(f"/verwaltung/buchung/kalender?datum={MONDAY}").get_data(
        as_text=True
    )
    assert "TV Musterstadt" in calendar
    queue = world.client.get("/verwaltung/buchung/").get_data(as_text=True)
    assert "TV Musterstadt" in queue
    with world.app.app_context():
        assert db.session.get(Booking, first).status == BookingStatus.REQUESTED


def test_waiting_list_leave_link_and_office_view(world):
    """The joining mail's link takes the person off the list; the office sees who waits."""
    waitlist_joined(world)
    (mail,) = world.box.messages(to="wanda@example.org")
    (link,) = [urlsplit(u).path for u in Mailbox.links(mail) if "austragen" in u]
    world.office()
    page = world.client.get("/verwaltung/buchung/warteliste").get_data(as_text=True)
    assert "Wanda Wartet" in page and "wanda@example.org" in page
    assert world.form_post(link, {}).status_code == 302  # the link needs no login
    assert "nicht mehr auf dieser Warteliste" in world.client.get(link).get_data(as_text=True)
    page = world.client.get("/verwaltung/buchung/warteliste").get_data(as_text=True)
    assert "Wanda Wartet" not in page
    assert world.client.get(link.replace("/austragen", "x/austragen")).status_code == 404

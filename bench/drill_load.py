"""The drill's mixed load: virtual citizens, clubs, clerks and Open311 clients.

A bounded pool of threads (one ``requests.Session`` each, so cookies and CSRF tokens work as
in a browser) runs until the deadline.  Each iteration picks a journey by weight; links that
arrive by mail (confirm a report, confirm a booking) are taken from the SMTP sink and
followed by the next free user, as a citizen would click them.

Every request is recorded with the status it should have: a valid request answered with
anything else (a 5xx above all) is an error of its endpoint.  A POST whose connection broke
(a killed web worker) has an unknown outcome; the checks allow for it.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import requests
from PIL import Image

from bench.drill_setup import Fixtures, Slot
from bench.drill_stack import PASSWORD, Stack

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REPORT_LINK_RE = re.compile(r"/maengel/bestaetigen/meldung/([A-Za-z0-9_\-]+)")
SUPPORT_LINK_RE = re.compile(r"/maengel/bestaetigen/unterstuetzung/([A-Za-z0-9_\-]+)")
BOOKING_LINK_RE = re.compile(r"/buchung/b/([A-Za-z0-9_\-]+)")
STAFF_REPORT_RE = re.compile(r"/verwaltung/maengel/meldungen/(\d+)\"")
BBOX = "6.47,50.735,6.51,50.76"

JOURNEYS = {
    "browse": 30,
    "report": 12,
    "book": 12,
    "club": 5,
    "clerk": 8,
    "open311": 10,
    "support": 4,
    "feedback": 2,
    "alert": 2,
    "password": 2,
}
# A guest refused a taken time joins its waiting list this often; every third guest who
# confirmed a booking cancels it again, so the first waiting for that time gets an offer.
WAITLIST_SHARE = 0.5
CANCEL_EVERY = 3
FEEDBACK_RE = re.compile(r"Drill-Rückmeldung (\d+)")


@dataclass
class Sample:
    label: str
    status: int  # 0: the connection broke
    ms: float
    ok: bool
    at: float = 0.0  # second of the run the request started


@dataclass
class Outcomes:
    """What the citizens were told, to hold against the database at the end."""

    reports_submitted: list[str] = field(default_factory=list)  # reporter e-mail per 302
    reports_unknown: list[str] = field(default_factory=list)
    reports_confirmed: list[str] = field(default_factory=list)  # confirm token per 302
    bookings: dict[str, str] = field(default_factory=dict)  # contact e-mail → booked/taken/unknown
    bookings_confirmed: list[str] = field(default_factory=list)  # booking token per 302
    club_series: list[tuple[str, str]] = field(
        default_factory=list
    )  # (purpose, booked/none/unknown)
    statuses_changed: int = 0
    supports_submitted: list[str] = field(default_factory=list)  # supporter e-mail per 302
    supports_confirmed: list[str] = field(default_factory=list)  # support token per 302
    feedback_sent: list[int] = field(default_factory=list)  # number in the message per 302
    waitlist_joined: list[str] = field(default_factory=list)  # e-mail per 302
    bookings_cancelled: list[str] = field(default_factory=list)  # booking token per 302
    password_resets: list[str] = field(default_factory=list)  # club login per 302
    alerts_subscribed: list[str] = field(default_factory=list)  # e-mail per 302


class Recorder:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Unexpected(Exception):
    """The answer was not one a valid request gets; the journey stops here."""


def photo_bytes() -> bytes:
    """A plausible phone photo, small enough for a 2-core machine: 800×600 JPEG."""
    rnd = random.Random(7)
    image = Image.new("RGB", (800, 600))
    image.putdata([(rnd.randrange(90, 140), rnd.randrange(80, 120), 70) for _ in range(800 * 600)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class MailLinks:
    """Reads new messages at the sink and hands out the links citizens would click."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.seen = 0
        self.report_links: list[str] = []
        self.booking_links: list[str] = []
        self.support_links: list[str] = []
        self.lock = threading.Lock()

    def poll(self) -> None:
        with self.lock:
            messages = self.stack.smtp.messages[self.seen :]
            self.seen += len(messages)
            for message in messages:
                subject = str(message["Subject"])
                body = mail_text(message)
                if subject.startswith("Bitte bestätigen Sie Ihre Meldung"):
                    self.report_links += REPORT_LINK_RE.findall(body)[:1]
                elif subject.startswith("Bitte bestätigen Sie Ihre Buchung"):
                    self.booking_links += BOOKING_LINK_RE.findall(body)[:1]
                elif subject.startswith("Bitte bestätigen Sie Ihre Unterstützung"):
                    self.support_links += SUPPORT_LINK_RE.findall(body)[:1]

    def take(self, kind: str) -> str | None:
        with self.lock:
            links = {
                "report": self.report_links,
                "booking": self.booking_links,
                "support": self.support_links,
            }[kind]
            return links.pop(random.randrange(len(links))) if links else None


def mail_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


class Load:
    def __init__(self, stack: Stack, fixtures: Fixtures, users: int, seed: int = 1) -> None:
        self.stack = stack
        self.fx = fixtures
        self.users = users
        self.recorder = Recorder()
        self.outcomes = Outcomes()
        self.mail = MailLinks(stack)
        self.photo = photo_bytes()
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.rnd = random.Random(seed)
        self.stop = threading.Event()
        # A few times everybody wants: the races.  The rest spreads the load.
        self.hot = self.rnd.sample(fixtures.slots, min(12, len(fixtures.slots)))
        self.staff_reports: list[int] = []

    # --- running ------------------------------------------------------------------------

    def run(self, seconds: float) -> None:
        self.recorder.started = time.monotonic()
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._user, args=(n, deadline), daemon=True)
            for n in range(self.users)
        ]
        for thread in threads:
            thread.start()
        while time.monotonic() < deadline:
            self.mail.poll()
            time.sleep(0.2)
        for thread in threads:
            thread.join(60)

    def _confirm_waiting(self, session) -> bool:
        """Follow one confirmation link that arrived by mail; False when none waits."""
        self.mail.poll()
        for kind, confirm in (
            ("report", self.confirm_report),
            ("booking", self.confirm_booking),
            ("support", self.confirm_support),
        ):
            link = self.mail.take(kind)
            if link:
                self._safely(confirm, session, link)
                return True
        return False

    def finish_links(self, seconds: float) -> None:
        """After the load: follow the confirmation links still waiting (one user)."""
        session = self._session()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._confirm_waiting(session):
            pass

    def _user(self, number: int, deadline: float) -> None:
        rnd = random.Random(number * 7919)
        session = self._session()
        clerk = club = None
        names, weights = zip(*JOURNEYS.items(), strict=True)
        if number % 4 == 0:
            # Rare at random with these seeds: every fourth user starts with one, so each
            # run has feedback mails to check.
            self._safely(self.feedback, session, rnd)
        while time.monotonic() < deadline:
            if self._confirm_waiting(session):
                continue
            journey = rnd.choices(names, weights)[0]
            if journey == "clerk":
                clerk = clerk or self._login_staff(number)
                if clerk:
                    self._safely(self.clerk, clerk, rnd)
            elif journey == "club":
                club = club or self._login_club(number)
                if club:
                    self._safely(self.club, club, rnd)
            else:
                self._safely(getattr(self, journey), session, rnd)
            time.sleep(rnd.uniform(0.0, 0.2))

    def _safely(self, journey, *args) -> None:
        """Run a journey; an unexpected answer (already recorded) ends it."""
        with contextlib.suppress(Unexpected):
            journey(*args)

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Accept-Language"] = "de"
        return session

    def _ip(self) -> str:
        """A citizen of their own for each journey (X-Forwarded-For behind the proxy)."""
        n = next(self.counter)
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def _at(self, perf_started: float) -> float:
        return perf_started - time.perf_counter() + time.monotonic() - self.recorder.started

    # --- one request --------------------------------------------------------------------

    def call(
        self,
        session: requests.Session,
        label: str,
        method: str,
        path: str,
        expect: tuple[int, ...] = (200,),
        ip: str | None = None,
        **kwargs,
    ) -> requests.Response | None:
        headers = kwargs.pop("headers", {})
        if ip:
            headers["X-Forwarded-For"] = ip
        started = time.perf_counter()
        try:
            response = session.request(
                method,
                self.stack.base_url + path,
                headers=headers,
                allow_redirects=False,
                timeout=60,
                **kwargs,
            )
        except requests.RequestException:
            ms = (time.perf_counter() - started) * 1000
            self.recorder.add(Sample(label, 0, ms, False, self._at(started)))
            return None
        ms = (time.perf_counter() - started) * 1000
        ok = response.status_code in expect
        self.recorder.add(Sample(label, response.status_code, ms, ok, self._at(started)))
        if not ok:
            raise Unexpected(f"{label}: {response.status_code}")
        return response

    def form_token(self, session, label, path, ip=None) -> str:
        response = self.call(session, label, "GET", path, ip=ip)
        if response is None:
            raise Unexpected(label)
        match = CSRF_RE.search(response.text)
        if not match:
            raise Unexpected(f"{label}: no CSRF token")
        return match.group(1)

    # --- journeys -----------------------------------------------------------------------

    def browse(self, session, rnd) -> None:
        ip = self._ip()
        self.call(session, "GET /maengel/", "GET", "/maengel/", ip=ip)
        self.call(
            session, "GET /maengel/karte.json", "GET", f"/maengel/karte.json?bbox={BBOX}", ip=ip
        )
        report = rnd.choice(self.fx.reports)
        self.call(session, "GET /maengel/<id>", "GET", f"/maengel/{report}", ip=ip)
        if rnd.random() < 0.3:
            self.call(session, "GET /maengel/feed.atom", "GET", "/maengel/feed.atom", ip=ip)
        self.call(session, "GET /buchung/", "GET", "/buchung/", ip=ip)
        slot = rnd.choice(self.fx.slots)
        self.call(
            session,
            "GET /buchung/<id>",
            "GET",
            f"/buchung/{slot.resource_id}?woche={slot.day}",
            ip=ip,
        )

    def report(self, session, rnd) -> None:
        ip = self._ip()
        category, photo_required = rnd.choice(self.fx.categories)
        lat = round(50.747 + rnd.uniform(-0.004, 0.004), 6)
        lon = round(6.491 + rnd.uniform(-0.004, 0.004), 6)
        token = self.form_token(
            session,
            "GET /maengel/neu/angaben",
            f"/maengel/neu/angaben?category={category}&lat={lat}&lon={lon}&new=1",
            ip=ip,
        )
        email = f"buerger{next(self.counter)}@drill.example"
        files = []
        if photo_required or rnd.random() < 0.5:
            files = [("photos", ("foto.jpg", self.photo, "image/jpeg"))]
        data = {
            "csrf_token": token,
            "category": str(category),
            "lat": str(lat),
            "lon": str(lon),
            "description": "Drill: Schlagloch vor dem Haus, etwa 30 cm breit.",
            "name": "Erika Drill",
            "email": email,
            "phone": "",
            "consent": "y",
            "website": "",
        }
        response = self.call(
            session,
            "POST /maengel/neu/angaben",
            "POST",
            "/maengel/neu/angaben",
            expect=(302,),
            ip=ip,
            data=data,
            files=files or None,
        )
        with self.lock:
            if response is None:
                self.outcomes.reports_unknown.append(email)
            else:
                self.outcomes.reports_submitted.append(email)

    def confirm_report(self, session, link: str) -> None:
        ip = self._ip()
        path = f"/maengel/bestaetigen/meldung/{link}"
        token = self.form_token(session, "GET /maengel/bestaetigen/<token>", path, ip=ip)
        response = self.call(
            session,
            "POST /maengel/bestaetigen/<token>",
            "POST",
            path,
            expect=(302,),
            ip=ip,
            data={"csrf_token": token},
        )
        if response is not None:
            with self.lock:
                self.outcomes.reports_confirmed.append(link)
            self.call(
                session,
                "GET /maengel/verfolgen/<token>",
                "GET",
                response.headers["Location"],
                ip=ip,
            )

    def support(self, session, rnd) -> None:
        """ "Ich bin auch betroffen" on a public report; the link comes by mail."""
        ip = self._ip()
        report = rnd.choice(self.fx.open_reports)
        page = f"/maengel/{report}"
        token = self.form_token(session, "GET /maengel/<id>", page, ip=ip)
        email = f"nachbar{next(self.counter)}@drill.example"
        response = self.call(
            session,
            "POST /maengel/<id>/unterstuetzen",
            "POST",
            f"{page}/unterstuetzen",
            expect=(302, 404),  # 404: a clerk closed the report meanwhile
            ip=ip,
            data={"csrf_token": token, "email": email, "website": ""},
        )
        if response is not None and response.status_code == 302:
            with self.lock:
                self.outcomes.supports_submitted.append(email)

    def confirm_support(self, session, link: str) -> None:
        ip = self._ip()
        path = f"/maengel/bestaetigen/unterstuetzung/{link}"
        token = self.form_token(session, "GET /maengel/bestaetigen/<token>", path, ip=ip)
        response = self.call(
            session,
            "POST /maengel/bestaetigen/<token>",
            "POST",
            path,
            expect=(302,),
            ip=ip,
            data={"csrf_token": token},
        )
        if response is not None:
            with self.lock:
                self.outcomes.supports_confirmed.append(link)

    def feedback(self, session, rnd) -> None:
        """A barrier reported through the accessibility statement's form."""
        ip = self._ip()
        token = self.form_token(session, "GET /barrierefreiheit", "/barrierefreiheit", ip=ip)
        number = next(self.counter)
        response = self.call(
            session,
            "POST /barrierefreiheit",
            "POST",
            "/barrierefreiheit",
            expect=(302,),
            ip=ip,
            data={
                "csrf_token": token,
                "message": f"Drill-Rückmeldung {number}: die Karte ist ohne Maus nicht bedienbar.",
                "email": f"hinweis{number}@drill.example",
                "website": "",
            },
        )
        if response is not None:
            with self.lock:
                self.outcomes.feedback_sent.append(number)

    def _slot(self, rnd) -> Slot:
        return rnd.choice(self.hot) if rnd.random() < 0.5 else rnd.choice(self.fx.slots)

    def book(self, session, rnd) -> None:
        ip = self._ip()
        slot = self._slot(rnd)
        path = f"/buchung/{slot.resource_id}/buchen"
        token = self.form_token(session, "GET /buchung/<id>/buchen", path, ip=ip)
        email = f"gast{next(self.counter)}@drill.example"
        data = {
            "csrf_token": token,
            "day": slot.day,
            "start": slot.start,
            "end": slot.end,
            "purpose": "Drill: Training",
            "attendees": "10",
            "customer_group": "private",
            "contact_name": "Gerd Gast",
            "contact_email": email,
            "contact_phone": "02422 123",
        }
        response = self.call(
            session, "POST /buchung/<id>/buchen", "POST", path, expect=(302, 409), ip=ip, data=data
        )
        with self.lock:
            if response is None:
                self.outcomes.bookings[email] = "unknown"
            else:
                self.outcomes.bookings[email] = "booked" if response.status_code == 302 else "taken"
        if response is not None and response.status_code == 409 and rnd.random() < WAITLIST_SHARE:
            self.waitlist(session, slot)

    def waitlist(self, session, slot: Slot) -> None:
        """The guest refused a taken time queues for it; a mail confirms the place in line."""
        ip = self._ip()
        path = f"/buchung/{slot.resource_id}/warteliste"
        token = self.form_token(session, "GET /buchung/<id>/warteliste", path, ip=ip)
        email = f"warte{next(self.counter)}@drill.example"
        data = {
            "csrf_token": token,
            "day": slot.day,
            "start": slot.start,
            "end": slot.end,
            "name": "Wilma Warte",
            "email": email,
        }
        # 200: the time was freed meanwhile ("Diese Zeit ist frei"), nothing to queue for.
        response = self.call(
            session,
            "POST /buchung/<id>/warteliste",
            "POST",
            path,
            expect=(200, 302),
            ip=ip,
            data=data,
        )
        if response is not None and response.status_code == 302:
            with self.lock:
                self.outcomes.waitlist_joined.append(email)

    def confirm_booking(self, session, link: str) -> None:
        ip = self._ip()
        path = f"/buchung/b/{link}"
        token = self.form_token(session, "GET /buchung/b/<token>", path, ip=ip)
        response = self.call(
            session,
            "POST /buchung/b/<token>/bestaetigen",
            "POST",
            path + "/bestaetigen",
            expect=(302,),
            ip=ip,
            data={"csrf_token": token},
        )
        if response is None:
            return
        with self.lock:
            self.outcomes.bookings_confirmed.append(link)
            cancel = len(self.outcomes.bookings_confirmed) % CANCEL_EVERY == 0
        if cancel:
            self.cancel_booking(session, link)

    def cancel_booking(self, session, link: str) -> None:
        """The guest cancels from the private page: a mail, and an offer to whoever waits."""
        ip = self._ip()
        path = f"/buchung/b/{link}"
        token = self.form_token(session, "GET /buchung/b/<token>", path, ip=ip)
        response = self.call(
            session,
            "POST /buchung/b/<token>/stornieren",
            "POST",
            path + "/stornieren",
            expect=(302,),
            ip=ip,
            data={"csrf_token": token, "sure": "1"},
        )
        if response is not None:
            with self.lock:
                self.outcomes.bookings_cancelled.append(link)

    def password(self, session, rnd) -> None:
        """A club's login forgot the password: the link to set a new one comes by mail."""
        ip = self._ip()
        path = "/buchung/verein/passwort-vergessen"
        token = self.form_token(session, "GET /buchung/verein/passwort-vergessen", path, ip=ip)
        email = rnd.choice(self.fx.clubs)
        response = self.call(
            session,
            "POST /buchung/verein/passwort-vergessen",
            "POST",
            path,
            expect=(302,),
            ip=ip,
            data={"csrf_token": token, "email": email},
        )
        if response is not None:
            with self.lock:
                self.outcomes.password_resets.append(email)

    def alert(self, session, rnd) -> None:
        """A neighbour orders an alert for the drill's area; the link comes by mail."""
        ip = self._ip()
        path = "/maengel/benachrichtigungen"
        token = self.form_token(session, "GET /maengel/benachrichtigungen", path, ip=ip)
        email = f"alarm{next(self.counter)}@drill.example"
        response = self.call(
            session,
            "POST /maengel/benachrichtigungen",
            "POST",
            path,
            expect=(302,),
            ip=ip,
            data={
                "csrf_token": token,
                "email": email,
                "kind": "area",
                "area": str(self.fx.area_id),
                "radius": "250",
                "on_new": "y",
                "frequency": "immediate",
                "website": "",
            },
        )
        if response is not None:
            with self.lock:
                self.outcomes.alerts_subscribed.append(email)

    def _login_staff(self, number: int) -> requests.Session | None:
        session = self._session()
        email = self.fx.clerks[number % len(self.fx.clerks)]
        try:
            token = self.form_token(session, "GET /anmelden", "/anmelden")
            response = self.call(
                session,
                "POST /anmelden",
                "POST",
                "/anmelden",
                expect=(302,),
                data={"csrf_token": token, "email": email, "password": PASSWORD},
            )
        except Unexpected:
            return None
        return session if response is not None else None

    def _login_club(self, number: int) -> requests.Session | None:
        # No X-Forwarded-For: logged-in sessions keep one address (Flask-Login's "strong"
        # session protection ties the session to it).
        session = self._session()
        email = self.fx.clubs[number % len(self.fx.clubs)]
        try:
            path = "/buchung/verein/anmelden"
            token = self.form_token(session, "GET /buchung/verein/anmelden", path)
            response = self.call(
                session,
                "POST /buchung/verein/anmelden",
                "POST",
                path,
                expect=(302,),
                data={"csrf_token": token, "email": email, "password": PASSWORD},
            )
        except Unexpected:
            return None
        return session if response is not None else None

    def clerk(self, session, rnd) -> None:
        inbox = self.call(
            session, "GET /verwaltung/maengel/meldungen/", "GET", "/verwaltung/maengel/meldungen/"
        )
        ids = [int(i) for i in STAFF_REPORT_RE.findall(inbox.text)] if inbox is not None else []
        if not ids:
            return
        report_id = rnd.choice(ids)
        path = f"/verwaltung/maengel/meldungen/{report_id}"
        page = self.call(session, "GET /verwaltung/maengel/meldungen/<id>", "GET", path)
        match = CSRF_RE.search(page.text) if page is not None else None
        if match and rnd.random() < 0.4:
            self.call(
                session,
                "POST /verwaltung/maengel/meldungen/<id>/status",
                "POST",
                path + "/status",
                expect=(302,),
                data={
                    "csrf_token": match.group(1),
                    "status": rnd.choice(["in_progress", "waiting", "open"]),
                    "public_note": "Drill: wir kümmern uns.",
                },
            )
            with self.lock:
                self.outcomes.statuses_changed += 1

    def club(self, session, rnd) -> None:
        slot = self._slot(rnd)
        path = "/buchung/verein/serie/neu"
        token = self.form_token(session, "GET /buchung/verein/serie/neu", path)
        purpose = f"Drill-Training {next(self.counter)}"
        data = {
            "csrf_token": token,
            "resource_id": str(slot.resource_id),
            "weekdays": str(slot.weekday),
            "start": slot.start,
            "end": slot.end,
            "every_weeks": "1",
            "first_day": slot.day,
            "last_day": slot.day,
            "purpose": purpose,
            "book_free": "Die freien Termine buchen",
        }
        response = self.call(
            session, "POST /buchung/verein/serie/neu", "POST", path, expect=(200, 302), data=data
        )
        if (
            response is not None
            and response.status_code == 200
            and "Kein Termin war frei" not in response.text
        ):
            raise Unexpected("series form refused")
        with self.lock:
            if response is None:
                outcome = "unknown"
            else:
                outcome = "booked" if response.status_code == 302 else "none"
            self.outcomes.club_series.append((purpose, outcome))

    def open311(self, session, rnd) -> None:
        self.call(session, "GET /open311/v2/services.json", "GET", "/open311/v2/services.json")
        self.call(session, "GET /open311/v2/requests.json", "GET", "/open311/v2/requests.json")
        report = rnd.choice(self.fx.reports)
        self.call(
            session,
            "GET /open311/v2/requests/<id>.json",
            "GET",
            f"/open311/v2/requests/{report}.json",
        )


def by_label(samples: list[Sample]) -> dict[str, list[Sample]]:
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.label].append(sample)
    return dict(sorted(grouped.items()))

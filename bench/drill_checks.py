"""The drill's verdict: what the sinks received against what the database says was owed.

Each check returns a ``Check`` (name, passed, figure); the drill fails when any fails.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.drill_load import FEEDBACK_RE, Load, Sample, by_label, mail_text
from bench.drill_setup import NEIGHBOUR
from buchung.club_models import BookingSeries
from buchung.models import ACTIVE_STATUSES, SLOT, Booking, BookingNotice, BookingSlot
from lotse import create_app
from lotse.extensions import db
from lotse.outbox import HEADER, OutboxMail
from mangel.models import Report, Support
from mangel.routing.models import Delivery, DeliveryMethod, DeliveryState

MESSAGE_ID_RE = re.compile(r"<mangel-delivery-(\d+)-")
NOTICE_ID_RE = re.compile(r"<buchung-notice-(\d+)@")
ALERT_RE = re.compile(r"^Nr\. (\d+):", re.MULTILINE)
DRILL_MAIL = "%@drill.example"


@dataclass
class Check:
    name: str
    passed: bool
    figure: str


def drill_app(stack):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": stack.db_url,
            "SECRET_KEY": "drill-checks",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PUBLIC_BASE_URL": stack.base_url,
        },
        instance_path=str(stack.workdir / "checks"),
    )


def outstanding(app, load: Load) -> list[str]:
    """Work still owed, one line per item saying why it is left: deliveries, booking mails
    and outbox mails not sent (state, attempts, last error, next attempt), and citizens'
    mails missing at the sink."""
    left: list[str] = []
    with app.app_context():
        for row in db.session.scalars(
            select(Delivery).where(Delivery.state != DeliveryState.SENT).order_by(Delivery.id)
        ):
            left.append(
                f"delivery {row.id} ({row.purpose}, {row.method}) {row.state}, "
                f"{row.attempts} attempts, next {_clock(row.next_attempt_at)}, "
                f"lease {_clock(row.locked_until)}: {row.last_error or 'no error'}"
            )
        for row in db.session.scalars(
            select(BookingNotice).where(BookingNotice.sent_at.is_(None)).order_by(BookingNotice.id)
        ):
            left.append(
                f"booking notice {row.id} ({row.event}) unsent, {row.attempts} attempts: "
                f"{row.last_error or 'no error'}"
            )
        for row in db.session.scalars(
            select(OutboxMail).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.id)
        ):
            state = "given up" if row.failed_at else "unsent"
            left.append(
                f"outbox mail {row.id} ({row.kind}, {row.ref}) {state}, {row.attempts} attempts, "
                f"next {_clock(row.next_attempt_at)}, lease {_clock(row.locked_until)}: "
                f"{row.last_error or 'no error'}"
            )
        reports = db.session.execute(
            select(Report.id, Report.reporter_email, Report.confirmed_at).where(
                Report.reporter_email.like(DRILL_MAIL)
            )
        ).all()
        db.session.remove()
    at_sink = {kind: Counter() for kind in ("confirm_report", "tracking")}
    for message in list(load.stack.smtp.messages):
        kind = _kind(str(message["Subject"]))
        if kind in at_sink:
            at_sink[kind][str(message["To"]).lower()] += 1
    for report_id, email, confirmed_at in reports:
        if not at_sink["confirm_report"][email.lower()]:
            left.append(f"report {report_id}: no confirmation mail at the sink yet")
        if confirmed_at is not None and not at_sink["tracking"][email.lower()]:
            left.append(f"report {report_id}: confirmed, no tracking-link mail at the sink yet")
    return left


def _clock(moment) -> str:
    return moment.strftime("%H:%M:%S") if moment else "-"


def _kind(subject: str) -> str:
    if subject.startswith("Bitte bestätigen Sie Ihre Meldung"):
        return "confirm_report"
    if re.match(r"Ihre Meldung Nr\. \d+ ist eingegangen", subject):
        return "tracking"
    return "other"


def verify(app, load: Load, kills: list[float]) -> list[Check]:
    """Every check of the drill, in the order they are printed."""
    # German subjects, as the jobs render them.
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        checks = (
            _deliveries(load)
            + _outbox(load)
            + _citizen_mails(load)
            + _supports_and_feedback(load)
            + _waitlist_passwords_alerts(load)
            + _bookings(load)
            + _requests(load.recorder.samples, kills)
        )
        db.session.remove()
    return checks


def _deliveries(load: Load) -> list[Check]:
    rows = db.session.scalars(select(Delivery)).all()
    messages = list(load.stack.smtp.messages)
    at_sink = Counter(
        int(m.group(1))
        for m in (MESSAGE_ID_RE.search(str(msg["Message-ID"])) for msg in messages)
        if m
    )
    hooks = Counter(
        headers.get("Idempotency-Key") for headers, _ in list(load.stack.webhook.requests)
    )
    confirmed = db.session.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.reporter_email.like(DRILL_MAIL), Report.confirmed_at.is_not(None))
    )
    department = [r for r in rows if r.purpose == "department"]
    unsent = [r for r in rows if r.state != DeliveryState.SENT]
    lost = dupes = 0
    for row in rows:
        count = (
            hooks[row.idempotency_key] if row.method == DeliveryMethod.WEBHOOK else at_sink[row.id]
        )
        lost += count == 0
        dupes += max(0, count - 1)
    known = {r.id for r in rows}
    strangers = sum(n for i, n in at_sink.items() if i not in known)
    reports_with_copy = len({r.report_id for r in department})
    webhook = sum(1 for r in department if r.method == DeliveryMethod.WEBHOOK)
    return [
        Check(
            "confirmed reports each delivered to a department",
            reports_with_copy == confirmed,
            f"{confirmed} confirmed, {reports_with_copy} with a department delivery "
            f"({len(department) - webhook} by mail, {webhook} by webhook)",
        ),
        Check(
            "deliveries sent (none pending or failed)",
            not unsent,
            f"{len(rows) - len(unsent)} of {len(rows)} sent"
            + (f"; unsent states {Counter(r.state for r in unsent)}" if unsent else ""),
        ),
        Check(
            "deliveries at the sinks exactly once",
            lost == 0 and dupes == 0 and strangers == 0,
            f"{sum(at_sink.values())} mails + {sum(hooks.values())} webhooks for {len(rows)} "
            f"deliveries: {lost} lost, {dupes} duplicated, {strangers} unknown",
        ),
    ]


def _outbox(load: Load) -> list[Check]:
    """Every row of the outbox at the sink exactly once (counted by the row id it carries)."""
    rows = db.session.execute(select(OutboxMail.id, OutboxMail.kind, OutboxMail.sent_at)).all()
    at_sink = Counter(
        int(str(m[HEADER])) for m in list(load.stack.smtp.messages) if m[HEADER] is not None
    )
    per_kind: dict[str, Counter] = {}
    for mail_id, kind, sent_at in rows:
        tally = per_kind.setdefault(kind, Counter())
        tally["rows"] += 1
        tally["unsent"] += sent_at is None
        tally["lost"] += at_sink[mail_id] == 0
        tally["duplicated"] += max(0, at_sink[mail_id] - 1)
    known = {mail_id for mail_id, _, _ in rows}
    strangers = sum(n for i, n in at_sink.items() if i not in known)
    bad = sum(t["unsent"] + t["lost"] + t["duplicated"] for t in per_kind.values())
    return [
        Check(
            "outbox mails at the sink exactly once, every kind",
            bad == 0 and strangers == 0 and bool(rows),
            "; ".join(
                f"{kind} {t['rows']} ({t['unsent']} unsent, {t['lost']} lost, "
                f"{t['duplicated']} duplicated)"
                for kind, t in sorted(per_kind.items())
            )
            + f"; {strangers} unknown",
        )
    ]


def _supports_and_feedback(load: Load) -> list[Check]:
    """Each "Ich auch" answered with 302 got one confirmation mail; each confirmation counted;
    each barrier report reached the accessibility contact once."""
    messages = list(load.stack.smtp.messages)
    support_subject = "Bitte bestätigen Sie Ihre Unterstützung"
    got = Counter(
        str(m["To"]).lower() for m in messages if str(m["Subject"]).startswith(support_subject)
    )
    submitted = load.outcomes.supports_submitted
    support_bad = sum(got[e.lower()] != 1 for e in submitted)
    confirmed = db.session.scalar(
        select(func.count()).select_from(Support).where(Support.confirmed_at.is_not(None))
    )
    answered = len(load.outcomes.supports_confirmed)
    numbers = Counter(
        int(match.group(1))
        for m in messages
        if str(m["Subject"]) == "Rückmeldung zur Barrierefreiheit"
        for match in [FEEDBACK_RE.search(mail_text(m))]
        if match
    )
    sent = load.outcomes.feedback_sent
    feedback_bad = sum(numbers[n] != 1 for n in sent)
    return [
        Check(
            "support confirmation mail once per support",
            support_bad == 0 and answered <= confirmed,
            f"{len(submitted)} supports, {support_bad} without exactly one mail; "
            f"{answered} confirmations answered, {confirmed} supports counted",
        ),
        Check(
            "accessibility feedback mailed once each",
            feedback_bad == 0,
            f"{len(sent)} sent, {feedback_bad} without exactly one mail",
        ),
    ]


# The kinds of mail the load causes, each of which the 10-minute drill must have sent (the
# short one reports those it did not come to).  Deliveries to departments are checked above.
KINDS = (
    "mangel.confirm",
    "mangel.tracking",
    "mangel.support_confirm",
    "mangel.alert",
    "mangel.alert_confirm",
    "lotse.accessibility_feedback",
    "buchung.notice.hold",
    "buchung.notice.confirmed",
    "buchung.notice.cancelled",
    "buchung.notice.offer",
    "buchung.waitlist_joined",
    "buchung.club_dates.series",
    "buchung.club_password",
)


def kinds_covered(load: Load, required: bool) -> Check:
    """Every kind of mail the load causes went out at least once during the drill."""
    sent = Counter(
        db.session.scalars(select(OutboxMail.kind).where(OutboxMail.sent_at.is_not(None)))
    )
    missing = [kind for kind in KINDS if not sent[kind]]
    return Check(
        "every kind of mail sent" + ("" if required else " (counted, required in the long run)"),
        not missing or not required,
        ", ".join(f"{kind} {sent[kind]}" for kind in KINDS)
        + (f"; none of {', '.join(missing)}" if missing else ""),
    )


def _waitlist_passwords_alerts(load: Load) -> list[Check]:
    """Each place on a waiting list, password link and alert order answered with 302 got
    its one mail; the neighbour's alert announced each new public report once."""
    messages = list(load.stack.smtp.messages)

    def per_address(subject: str) -> Counter:
        return Counter(str(m["To"]).lower() for m in messages if str(m["Subject"]) == subject)

    joined = per_address("Sie stehen auf der Warteliste")
    waitlist_bad = sum(joined[e] != 1 for e in load.outcomes.waitlist_joined)
    resets = Counter(load.outcomes.password_resets)
    links = per_address("Neues Passwort für die Hallenbuchung")
    reset_bad = sum(links[e] != n for e, n in resets.items())
    ordered = per_address("Bitte bestätigen Sie Ihre Benachrichtigung")
    alert_bad = sum(ordered[e] != 1 for e in load.outcomes.alerts_subscribed)

    public = db.session.scalars(
        select(Report.id).where(
            Report.reporter_email.like(DRILL_MAIL),
            Report.confirmed_at.is_not(None),
            Report.hidden.is_(False),
        )
    ).all()
    announced = Counter(
        int(match.group(1))
        for m in messages
        if str(m["To"]).lower() == NEIGHBOUR and str(m["Subject"]).startswith("Neue Meldung")
        for match in [ALERT_RE.search(mail_text(m))]
        if match
    )
    announce_bad = sum(announced[i] != 1 for i in public)
    strangers = sum(n for i, n in announced.items() if i not in set(public))
    cancelled = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.token.in_(load.outcomes.bookings_cancelled or [""]),
            Booking.status == "cancelled",
        )
    )
    offers = db.session.scalar(
        select(func.count()).select_from(BookingNotice).where(BookingNotice.event == "offer")
    )
    return [
        Check(
            "waiting list: a mail per place, cancellations kept, offers made",
            waitlist_bad == 0 and cancelled == len(load.outcomes.bookings_cancelled),
            f"{len(load.outcomes.waitlist_joined)} joined, {waitlist_bad} without exactly one "
            f"mail; {len(load.outcomes.bookings_cancelled)} cancelled by the guest, "
            f"{cancelled} cancelled in the database; {offers} offers",
        ),
        Check(
            "password link mailed once per request",
            reset_bad == 0,
            f"{sum(resets.values())} requests, {sum(links.values())} mails, "
            f"{reset_bad} logins with a different count",
        ),
        Check(
            "alerts: one confirmation per order, each new public report announced once",
            alert_bad == 0 and announce_bad == 0 and strangers == 0,
            f"{len(load.outcomes.alerts_subscribed)} orders, {alert_bad} without exactly one "
            f"mail; {len(public)} public reports, {announce_bad} not announced exactly once, "
            f"{strangers} unknown",
        ),
    ]


def _citizen_mails(load: Load) -> list[Check]:
    messages = list(load.stack.smtp.messages)
    by_kind: dict[str, Counter] = {"confirm_report": Counter(), "tracking": Counter()}
    for message in messages:
        kind = _kind(str(message["Subject"]))
        if kind in by_kind:
            by_kind[kind][str(message["To"]).lower()] += 1
    reports = db.session.execute(
        select(Report.reporter_email, Report.confirmed_at).where(
            Report.reporter_email.like(DRILL_MAIL)
        )
    ).all()
    stored = Counter(email for email, _ in reports)
    submitted = load.outcomes.reports_submitted
    lost_reports = [e for e in submitted if stored[e] != 1]
    confirm_bad = sum(by_kind["confirm_report"][e] != 1 for e, _ in reports)
    confirmed = [e for e, at in reports if at is not None]
    tracking_bad = sum(by_kind["tracking"][e] != 1 for e in confirmed)
    unconfirmed_links = len(load.outcomes.reports_confirmed) - len(confirmed)

    notices = _booking_notices(messages)
    return [
        Check(
            "submitted reports stored",
            not lost_reports,
            f"{len(submitted)} accepted (+{len(load.outcomes.reports_unknown)} unknown), "
            f"{len(reports)} stored, {len(lost_reports)} missing",
        ),
        Check(
            "confirmation mail once per report",
            confirm_bad == 0,
            f"{len(reports)} reports, {confirm_bad} without exactly one mail",
        ),
        Check(
            "confirmed by the citizen = confirmed in the database",
            unconfirmed_links <= 0,
            f"{len(load.outcomes.reports_confirmed)} confirmations answered, "
            f"{len(confirmed)} confirmed reports",
        ),
        Check(
            "tracking link mail once per confirmed report",
            tracking_bad == 0,
            f"{len(confirmed)} confirmed, {tracking_bad} without exactly one mail",
        ),
        notices,
    ]


def _booking_notices(messages) -> Check:
    """Each booking notice handed to the outbox and at the sink exactly once, counted by the
    notice's own Message-ID (never by address and subject: a club's logins change, two
    notices can share both); a notice without a mail is one with nobody to tell."""
    from buchung.jobs import NOTICE_KIND
    from buchung.services.notices import booker_addresses, office_address

    notices = db.session.scalars(select(BookingNotice)).all()
    at_sink = Counter(
        int(m.group(1))
        for m in (NOTICE_ID_RE.search(str(msg["Message-ID"])) for msg in messages)
        if m
    )
    rows = db.session.scalar(
        select(func.count()).select_from(OutboxMail).where(OutboxMail.kind.like(NOTICE_KIND + "%"))
    )
    unsent = sum(1 for n in notices if n.sent_at is None)
    dupes = sum(max(0, n - 1) for n in at_sink.values())
    known = {n.id for n in notices}
    strangers = sum(n for i, n in at_sink.items() if i not in known)
    silent = [n for n in notices if not at_sink[n.id]]
    addressed = sum(
        1
        for n in silent
        if (
            office_address(n.booking.resource)
            if n.event == "office_request"
            else booker_addresses(n.booking)
        )
    )
    mailed = len(notices) - len(silent)
    return Check(
        "booking mails once each",
        unsent == 0 and dupes == 0 and strangers == 0 and addressed == 0 and mailed == rows,
        f"{len(notices)} notices, {rows} outbox rows, {sum(at_sink.values())} mails: "
        f"{addressed} lost, {dupes} duplicated, {unsent} not handed over, {strangers} unknown, "
        f"{len(silent) - addressed} with nobody to tell",
    )


def _bookings(load: Load) -> list[Check]:
    active = db.session.scalars(select(Booking).where(Booking.status.in_(ACTIVE_STATUSES))).all()
    taken: Counter = Counter()
    for booking in active:
        units = booking.resource.unit_ids()
        moment = booking.starts_at
        while moment < booking.ends_at:
            for unit in units:
                taken[(unit, moment)] += 1
            moment += SLOT
    doubles = sum(1 for n in taken.values() if n > 1)
    slot_rows = db.session.execute(select(BookingSlot.unit_id, BookingSlot.slot_start)).all()
    rows = Counter((unit, start) for unit, start in slot_rows)
    mismatch = len(set(rows) ^ set(taken))

    per_email = Counter(
        db.session.scalars(
            select(Booking.contact_email).where(Booking.contact_email.like(DRILL_MAIL))
        )
    )
    outcomes = load.outcomes.bookings
    wrong = sum(
        1
        for email, outcome in outcomes.items()
        if (outcome == "booked" and per_email[email] != 1)
        or (outcome == "taken" and per_email[email] != 0)
        or (outcome == "unknown" and per_email[email] > 1)
    )
    booked = sum(1 for o in outcomes.values() if o == "booked")
    refused = sum(1 for o in outcomes.values() if o == "taken")
    confirmed_tokens = load.outcomes.bookings_confirmed
    still_held = (
        db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.token.in_(confirmed_tokens), Booking.status == "held")
        )
        if confirmed_tokens
        else 0
    )

    series = {
        purpose: n
        for purpose, n in db.session.execute(
            select(BookingSeries.purpose, func.count(Booking.id))
            .outerjoin(Booking, Booking.series_id == BookingSeries.id)
            .where(BookingSeries.purpose.like("Drill-Training %"))
            .group_by(BookingSeries.purpose)
        )
    }
    club_wrong = sum(
        1
        for purpose, outcome in load.outcomes.club_series
        if (outcome == "booked" and series.get(purpose, 0) < 1)
        or (outcome == "none" and purpose in series)
    )
    club_booked = sum(1 for _, o in load.outcomes.club_series if o == "booked")
    return [
        Check(
            "no slot booked twice",
            doubles == 0 and mismatch == 0,
            f"{len(active)} active bookings on {len(taken)} unit slots: {doubles} double, "
            f"{mismatch} slot rows not matching",
        ),
        Check(
            "booking answers match the database",
            wrong == 0 and club_wrong == 0 and still_held == 0,
            f"citizens {booked} booked / {refused} refused with 409; clubs {club_booked} booked / "
            f"{len(load.outcomes.club_series) - club_booked} nothing free; {wrong + club_wrong} "
            f"mismatches; {len(confirmed_tokens)} confirmed by link, {still_held} still held",
        ),
    ]


def _requests(samples: list[Sample], kills: list[float]) -> list[Check]:
    """No 5xx, nothing unexpected, and a broken connection only for a request that was in
    flight when a web worker was killed (its start and end, not a fixed window after the
    kill: on a busy machine a request may take seconds)."""
    server_errors = sum(1 for s in samples if s.status >= 500)
    unexpected = sum(1 for s in samples if not s.ok and s.status != 0)
    broken = [s for s in samples if s.status == 0]
    outside = [
        s for s in broken if not any(s.at - 0.5 <= t <= s.at + s.ms / 1000 + 0.5 for t in kills)
    ]
    return [
        Check(
            "no HTTP 5xx for valid requests",
            server_errors == 0,
            f"{server_errors} of {len(samples)}",
        ),
        Check("no other unexpected answers", unexpected == 0, f"{unexpected} of {len(samples)}"),
        Check(
            "broken connections only when a web worker was killed",
            not outside,
            f"{len(broken)} broken ({len(outside)} not in flight at a kill)"
            + "".join(f"\n      {s.at:6.1f} s +{s.ms:.0f} ms {s.label}" for s in outside[:10]),
        ),
    ]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def table(samples: list[Sample], seconds: float) -> str:
    """Per endpoint: requests, errors, 5xx, error rate, p50/p95/p99 latency; then totals."""
    header = f"{'endpoint':<46} {'n':>6} {'err':>4} {'5xx':>4} {'err%':>6} {'p50':>7} {'p95':>7} {'p99':>7}"
    lines = [header + "   (ms)", "-" * len(header)]
    for label, group in by_label(samples).items():
        ms = [s.ms for s in group if s.status]
        errors = sum(1 for s in group if not s.ok)
        fives = sum(1 for s in group if s.status >= 500)
        lines.append(
            f"{label:<46} {len(group):>6} {errors:>4} {fives:>4} {100 * errors / len(group):>5.2f}% "
            f"{percentile(ms, 50):>7.0f} {percentile(ms, 95):>7.0f} {percentile(ms, 99):>7.0f}"
        )
    ms = [s.ms for s in samples if s.status]
    errors = sum(1 for s in samples if not s.ok)
    lines.append("-" * len(header))
    lines.append(
        f"{'all':<46} {len(samples):>6} {errors:>4} {sum(1 for s in samples if s.status >= 500):>4} "
        f"{100 * errors / max(1, len(samples)):>5.2f}% {percentile(ms, 50):>7.0f} "
        f"{percentile(ms, 95):>7.0f} {percentile(ms, 99):>7.0f}"
    )
    lines.append(f"requests per second: {len(samples) / seconds:.1f} over {seconds:.0f} s")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> str:
    return json.dumps([c.__dict__ for c in checks], ensure_ascii=False, indent=1)

"""Alerts: which subscriptions a report event matches, and the mails that follow.

Matching happens in the transaction that makes a report public or changes its public status
(the signal receivers below): the database narrows the candidates (bounding box of circles,
street key, areas whose box holds the point), Python checks the exact distance or shape.
Immediate subscriptions get a mail through the outbox at once; daily ones collect
``AlertEvent`` rows that the sweep turns into one digest per address and day.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, select

from lotse.extensions import db
from lotse.geo import distance_m, geometry_from_geojson
from lotse.models import utcnow
from lotse.outbox import queue_mail
from lotse.urls import public_url
from mangel.alerts.models import AlertEvent, AlertSubscription
from mangel.models import Report, ReportStatus
from mangel.places import search_key
from mangel.routing.models import Area
from mangel.signals import report_confirmed, report_status_changed

CONFIRM_HOURS = 72
LOCAL_TZ = ZoneInfo("Europe/Berlin")
METRES_PER_DEG_LAT = 111_320.0


def token(subscription_id: int, purpose: str) -> str:
    """The secret of a link about one subscription; nothing to store, nothing to leak."""
    key = current_app.config["SECRET_KEY"].encode()
    msg = f"mangel-alert:{purpose}:{subscription_id}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def valid_token(subscription_id: int, purpose: str, given: str) -> bool:
    return hmac.compare_digest(token(subscription_id, purpose), given or "")


def street_key(street: str) -> str:
    return search_key(street)


def set_circle(sub: AlertSubscription, lat: float, lon: float, radius_m: int) -> None:
    sub.kind, sub.lat, sub.lon, sub.radius_m = "radius", lat, lon, radius_m
    dlat = radius_m / METRES_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    sub.min_lat, sub.max_lat = lat - dlat, lat + dlat
    sub.min_lon, sub.max_lon = lon - dlon, lon + dlon


def known_streets(prefix: str = "") -> list[str]:
    """Streets of the town's address list (for the street choice), optionally by prefix."""
    from mangel.models import Address

    stmt = select(Address.street).distinct().order_by(Address.street)
    if prefix:
        stmt = stmt.where(Address.search_key.like(search_key(prefix) + "%"))
    return list(db.session.scalars(stmt.limit(2000)))


def subscribe(sub: AlertSubscription) -> None:
    """Store an unconfirmed subscription and queue the mail that confirms it."""
    sub.confirmed = False
    sub.confirm_expires_at = utcnow() + timedelta(hours=CONFIRM_HOURS)
    db.session.add(sub)
    db.session.flush()
    queue_mail(
        sub.email,
        _l("Bitte bestätigen Sie Ihre Benachrichtigung"),
        "mangel/emails/alert_confirm",
        kind="mangel.alert_confirm",
        ref=f"alert:{sub.id}",
        sub=sub,
        confirm_url=public_url("mangel.alert_confirm", sub_id=sub.id, key=token(sub.id, "confirm")),
        hours=CONFIRM_HOURS,
    )


def unsubscribe_url(sub: AlertSubscription, everything: bool = False) -> str:
    values = {"sub_id": sub.id, "key": token(sub.id, "unsubscribe")}
    if everything:
        values["alle"] = "1"
    return public_url("mangel.alert_unsubscribe", **values)


def _unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@lru_cache(maxsize=512)
def _area_shape(area_id: int, geojson_key: str):
    import json

    from shapely.prepared import prep

    return prep(geometry_from_geojson(json.loads(geojson_key)))


def _in_area(area: Area, lat: float, lon: float) -> bool:
    import json

    from shapely.geometry import Point

    shape = _area_shape(area.id, json.dumps(area.geojson, sort_keys=True))
    return shape.contains(Point(lon, lat))


def matching(report: Report, event: str) -> list[AlertSubscription]:
    """Confirmed subscriptions that want to hear about this event of this report."""
    lat, lon = report.lat, report.lon
    wanted = AlertSubscription.on_new if event == "new" else AlertSubscription.on_status
    areas = select(Area.id).where(
        Area.min_lat <= lat, Area.max_lat >= lat, Area.min_lon <= lon, Area.max_lon >= lon
    )
    where_clauses = [
        and_(
            AlertSubscription.kind == "radius",
            AlertSubscription.min_lat <= lat,
            AlertSubscription.max_lat >= lat,
            AlertSubscription.min_lon <= lon,
            AlertSubscription.max_lon >= lon,
        ),
        and_(AlertSubscription.kind == "area", AlertSubscription.area_id.in_(areas)),
    ]
    if report.street:
        where_clauses.append(
            and_(
                AlertSubscription.kind == "street",
                AlertSubscription.street_key == street_key(report.street),
            )
        )
    candidates = db.session.scalars(
        select(AlertSubscription).where(
            AlertSubscription.confirmed.is_(True), wanted.is_(True), or_(*where_clauses)
        )
    ).all()
    found = []
    for sub in candidates:
        if sub.category_ids and report.category_id not in sub.category_ids:
            continue
        if sub.kind == "radius" and distance_m(lat, lon, sub.lat, sub.lon) > sub.radius_m:
            continue
        if sub.kind == "area" and not _in_area(sub.area, lat, lon):
            continue
        found.append(sub)
    return found


def notify(report: Report, event: str) -> int:
    """Tell every matching subscription (mail now, or a digest entry); returns how many."""
    if not report.is_public:
        return 0
    subs = matching(report, event)
    for sub in subs:
        if sub.frequency == "daily":
            db.session.add(
                AlertEvent(
                    subscription_id=sub.id, report_id=report.id, event=event, status=report.status
                )
            )
            continue
        url = unsubscribe_url(sub)
        subject = (
            _l("Neue Meldung: %(category)s", category=report.category.name)
            if event == "new"
            else _l(
                "Meldung Nr. %(id)d: %(status)s",
                id=report.id,
                status=ReportStatus(report.status).label,
            )
        )
        queue_mail(
            sub.email,
            subject,
            "mangel/emails/alert_event",
            kind="mangel.alert",
            ref=f"alert:{sub.id}",
            headers=_unsubscribe_headers(url),
            sub=sub,
            report=report,
            event=event,
            report_url=public_url("mangel.report_page", report_id=report.id),
            unsubscribe_url=url,
        )
    return len(subs)


@report_confirmed.connect
def _on_confirmed(report: Report, **_extra) -> None:
    notify(report, "new")


@report_status_changed.connect
def _on_status(report: Report, change=None, **_extra) -> None:
    notify(report, "status")


def _digest_due(last, now) -> bool:
    """Once a day, from ``MANGEL_ALERT_DIGEST_HOUR`` (local time) on."""
    local_now = now.astimezone(LOCAL_TZ)
    if local_now.hour < current_app.config["MANGEL_ALERT_DIGEST_HOUR"]:
        return False
    return last is None or last.astimezone(LOCAL_TZ).date() < local_now.date()


def send_digests() -> int:
    """Sweep step: one digest per address whose daily subscriptions collected events."""
    now = utcnow()
    rows = db.session.execute(
        select(AlertEvent, AlertSubscription)
        .join(AlertSubscription, AlertEvent.subscription_id == AlertSubscription.id)
        .order_by(AlertSubscription.email, AlertEvent.id)
    ).all()
    by_email: dict[str, list] = defaultdict(list)
    for event, sub in rows:
        by_email[sub.email].append((event, sub))
    sent = 0
    for email, items in by_email.items():
        subs = {sub.id: sub for _event, sub in items}
        last = max((s.last_digest_at for s in subs.values() if s.last_digest_at), default=None)
        if not _digest_due(last, now):
            continue
        reports = {
            r.id: r
            for r in db.session.scalars(
                select(Report).where(Report.id.in_({e.report_id for e, _s in items}))
            )
        }
        entries = [
            (event, sub, reports[event.report_id])
            for event, sub in items
            if event.report_id in reports and reports[event.report_id].is_public
        ]
        first = next(iter(subs.values()))
        everything = unsubscribe_url(first, everything=True)
        if entries:
            queue_mail(
                email,
                _l("Ihre tägliche Übersicht: %(count)d Meldungen", count=len(entries)),
                "mangel/emails/alert_digest",
                kind="mangel.alert_digest",
                ref=f"alert:{first.id}",
                headers=_unsubscribe_headers(everything),
                entries=[
                    {
                        "event": event.event,
                        "status": ReportStatus(event.status).label,
                        "report": report,
                        "label": sub.label,
                        "url": public_url("mangel.report_page", report_id=report.id),
                    }
                    for event, sub, report in entries
                ],
                subs=[(s, unsubscribe_url(s)) for s in subs.values()],
                unsubscribe_all_url=everything,
            )
            sent += 1
        db.session.execute(delete(AlertEvent).where(AlertEvent.id.in_([e.id for e, _s in items])))
        for sub in subs.values():
            sub.last_digest_at = now
    db.session.execute(
        delete(AlertSubscription).where(
            AlertSubscription.confirmed.is_(False), AlertSubscription.confirm_expires_at < now
        )
    )
    db.session.commit()
    return sent

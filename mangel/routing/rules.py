"""Who is responsible for a report, and the outbox rows that tell them.

The most specific rule wins: a rule for the report's category (or, failing that, its main
category) in the smallest area containing the report, then a rule for the category
without an area, then a rule for every category in an area, then the category's default
department, then the fallback inbox ``MANGEL_FALLBACK_EMAIL``.  Areas come from GeoJSON
(``mangel.routing.areas``); admins keep areas and rules under ``mangel.routing.admin``.  The signal receivers add ``Delivery`` rows to the sender's
session; ``mangel.routing.delivery`` enqueues them once the session commits.

How other parts trigger routing (emit inside the transaction, then ``commit()`` once):
- a new confirmed report (web form, Open311 ``POST requests``): ``report_confirmed.send(report)``,
  which ``services.confirm_report`` already does;
- the staff workbench: forwarding names the department,
  ``report_rerouted.send(report, reason="forward", staff_user=user, department=dep)``; after a
  corrected category or place (``reason="recategorise"``/``"move"``) the rules choose again,
  and only a change of department sends the report on and tells the reporter.  Whether it
  changed, the sender sees on ``report.department_id`` after the send;
- a public status change: ``report_status_changed.send(report, change=status_change_row)``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from shapely.geometry import Point
from sqlalchemy import or_, select, update

from lotse.extensions import db
from lotse.geo import geometry_from_geojson
from lotse.models import Department, utcnow
from mangel.models import Category, Report, ReportStatus, StatusChange
from mangel.routing.delivery import schedule
from mangel.routing.models import (
    Area,
    Delivery,
    DeliveryMethod,
    DeliveryState,
    DepartmentEndpoint,
    Purpose,
    RoutingRule,
)
from mangel.routing.roads import RoadDecision, road_decision
from mangel.signals import report_confirmed, report_rerouted, report_status_changed


@dataclass(frozen=True)
class Target:
    """Where a report's department copy goes."""

    department: Department | None
    method: DeliveryMethod
    recipient: str


@dataclass(frozen=True)
class Decision:
    """Who is responsible, and why: the rule that won, or the category's default."""

    department: Department | None
    rule: RoutingRule | None = None
    default_of: Category | None = None  # the category whose default department applies
    road: RoadDecision | None = None  # the road authority that applies, and why

    @property
    def explanation(self) -> str:
        """Why this department, for the citizen and the "Wer ist zuständig?" check."""
        return self.road.explanation if self.road else ""


def decide(category: Category, lat: float, lon: float) -> Decision:
    """The department for a report of this category at this place, and the rule that won.

    A rule for the category (or its main category) in the smallest area around the point
    wins, then one for the category anywhere, then one for everything in an area; without
    a rule the category's (or main category's) default department; else none (fallback).
    A road rule (the road authority of a classified road near the point) comes first.
    """
    road = road_decision(category, lat, lon)
    if road is not None:
        return Decision(road.department, road=road)
    category_ids = [category.id]
    if category.parent_id:
        category_ids.append(category.parent_id)
    rules = db.session.scalars(
        select(RoutingRule)
        .outerjoin(Area)
        .where(
            or_(RoutingRule.category_id.in_(category_ids), RoutingRule.category_id.is_(None)),
            or_(
                RoutingRule.area_id.is_(None),
                (Area.min_lat <= lat)
                & (Area.max_lat >= lat)
                & (Area.min_lon <= lon)
                & (Area.max_lon >= lon),
            ),
        )
    ).all()
    point = Point(lon, lat)

    def rank(rule: RoutingRule) -> tuple:
        if rule.category_id is None:
            return (2, 0, rule.area.size)
        leaf_first = category_ids.index(rule.category_id)
        if rule.area is None:
            return (1, leaf_first, 0.0)
        return (0, leaf_first, rule.area.size)

    for rule in sorted(rules, key=rank):
        if rule.area is None or geometry_from_geojson(rule.area.geojson).covers(point):
            return Decision(rule.department, rule=rule)
    for candidate in (category, category.parent):
        if candidate is not None and candidate.department is not None:
            return Decision(candidate.department, default_of=candidate)
    return Decision(None)


def responsible_department(report: Report) -> Department | None:
    """The department the rules give for this report's category and place."""
    return decide(report.category, report.lat, report.lon).department


def target_for(department: Department | None) -> Target:
    """A department's webhook if it has one, else its inbox; else the fallback inbox.

    An external department may have only a webhook (its e-mail left empty) or only an
    inbox; one with neither still gets its reports, through the fallback inbox.
    """
    fallback = current_app.config["MANGEL_FALLBACK_EMAIL"]
    if department is None:
        return Target(None, DeliveryMethod.EMAIL, fallback)
    endpoint = db.session.get(DepartmentEndpoint, department.id)
    if endpoint is not None:
        return Target(department, DeliveryMethod.WEBHOOK, endpoint.webhook_url)
    return Target(department, DeliveryMethod.EMAIL, department.email.strip() or fallback)


def add_delivery(report: Report, purpose: Purpose, recipient: str, **values) -> Delivery:
    """Add an outbox row to the session; it is enqueued after the commit."""
    delivery = Delivery(
        report=report,
        purpose=purpose.value,
        recipient=recipient,
        idempotency_key=secrets.token_hex(16),
        next_attempt_at=values.pop("next_attempt_at", None) or utcnow(),
        **values,
    )
    db.session.add(delivery)
    schedule(delivery)
    return delivery


def send_to_department(report: Report, reason: str) -> Delivery:
    """Cancel what was not sent yet and send the report to its current department."""
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.report_id == report.id,
            Delivery.purpose == Purpose.DEPARTMENT.value,
            Delivery.state.in_([DeliveryState.PENDING.value, DeliveryState.FAILED.value]),
        )
        .values(state=DeliveryState.CANCELLED.value, reason=f"superseded: {reason}"[:200])
    )
    target = target_for(report.department)
    return add_delivery(
        report,
        Purpose.DEPARTMENT,
        target.recipient,
        department=target.department,
        method=target.method.value,
        reason=reason,
    )


@report_confirmed.connect
def on_confirmed(report: Report, **_) -> None:
    """A confirmed report goes to the department the rules give."""
    report.department = responsible_department(report)
    send_to_department(report, "confirmed")


@report_rerouted.connect
def on_rerouted(
    report: Report, reason: str = "", staff_user=None, department: Department | None = None, **_
) -> None:
    """Hand the report on when responsibility changes; only then tell department and reporter.

    ``department`` is the one staff forwarded to; without it (a corrected place or
    category) the rules decide again.  If that is the department the report has, nothing
    is sent: the correction stays in the workbench history.  A reopened report goes to
    its department again; the reporter, who reopened it, is told on the page.
    """
    if reason == "reopened":
        send_to_department(report, reason)
        return
    if department is None:
        department = responsible_department(report)
    if (department.id if department else None) == report.department_id:
        return
    report.department = department
    db.session.flush()
    delivery = send_to_department(report, reason or "rerouted")
    if report.reporter_email:
        add_delivery(
            report, Purpose.FORWARDED, report.reporter_email, department=delivery.department
        )


@report_status_changed.connect
def on_status_changed(report: Report, change: StatusChange, **_) -> None:
    """Tell the reporter about a public status change; ask "Ist es behoben?" after closing."""
    if not report.reporter_email:
        return
    add_delivery(report, Purpose.STATUS, report.reporter_email, status_change=change)
    # A duplicate's reporter follows the original, whose closing asks them nothing either.
    if not change.status_enum.is_open and change.status_enum is not ReportStatus.DUPLICATE:
        weeks = current_app.config["MANGEL_FOLLOW_UP_WEEKS"]
        add_delivery(
            report,
            Purpose.FOLLOW_UP,
            report.reporter_email,
            status_change=change,
            next_attempt_at=utcnow() + timedelta(weeks=weeks),
        )

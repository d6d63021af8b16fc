"""Who is responsible for a report, and the outbox rows that tell them.

The most specific rule wins: a rule for the report's category (or, failing that, its main
category) in the smallest area containing the report, then a rule for the category
without an area, then the category's default department, then the fallback inbox
``MANGEL_FALLBACK_EMAIL``.  The signal receivers add ``Delivery`` rows to the sender's
session; ``mangel.delivery`` enqueues them once the session commits.

How other parts trigger routing (emit inside the transaction, then ``commit()`` once):
- a new confirmed report (web form, Open311 ``POST requests``): ``report_confirmed.send(report)``,
  which ``services.confirm_report`` already does;
- the staff workbench after changing category, location or department:
  ``report_rerouted.send(report, reason=..., staff_user=user)``.  A department set by staff in
  the same transaction is kept (forwarding); otherwise the rules choose again;
- a public status change: ``report_status_changed.send(report, change=status_change_row)``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from shapely.geometry import Point, mapping
from sqlalchemy import inspect, or_, select, update

from lotse.cli import lotse_cli
from lotse.extensions import db
from lotse.geo import geometry_from_geojson
from lotse.models import Department, utcnow
from mangel.delivery import schedule
from mangel.models import Report, StatusChange
from mangel.routing_models import (
    Area,
    Delivery,
    DeliveryMethod,
    DeliveryState,
    DepartmentEndpoint,
    Purpose,
    RoutingRule,
)
from mangel.signals import report_confirmed, report_rerouted, report_status_changed


@dataclass(frozen=True)
class Target:
    """Where a report's department copy goes."""

    department: Department | None
    method: DeliveryMethod
    recipient: str


def responsible_department(report: Report) -> Department | None:
    """The department the rules give for this report's category and place."""
    category_ids = [report.category_id]
    if report.category.parent_id:
        category_ids.append(report.category.parent_id)
    rules = db.session.scalars(
        select(RoutingRule)
        .outerjoin(Area)
        .where(
            RoutingRule.category_id.in_(category_ids),
            or_(
                RoutingRule.area_id.is_(None),
                (Area.min_lat <= report.lat)
                & (Area.max_lat >= report.lat)
                & (Area.min_lon <= report.lon)
                & (Area.max_lon >= report.lon),
            ),
        )
    ).all()
    point = Point(report.lon, report.lat)

    def rank(rule: RoutingRule) -> tuple:
        leaf_first = category_ids.index(rule.category_id)
        if rule.area is None:
            return (1, leaf_first, 0.0)
        return (0, leaf_first, rule.area.size)

    for rule in sorted(rules, key=rank):
        if rule.area is None or geometry_from_geojson(rule.area.geojson).covers(point):
            return rule.department
    return report.category.department or (
        report.category.parent.department if report.category.parent else None
    )


def target_for(department: Department | None) -> Target:
    """A department's webhook if it has one, else its inbox; no department: the fallback."""
    if department is None:
        return Target(None, DeliveryMethod.EMAIL, current_app.config["MANGEL_FALLBACK_EMAIL"])
    endpoint = db.session.get(DepartmentEndpoint, department.id)
    if endpoint is not None:
        return Target(department, DeliveryMethod.WEBHOOK, endpoint.webhook_url)
    return Target(department, DeliveryMethod.EMAIL, department.email)


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


def route(report: Report, reason: str) -> Delivery:
    """Send the report to its department (set it from the rules unless staff chose one)."""
    if not inspect(report).attrs.department_id.history.has_changes():
        department = responsible_department(report)
        report.department = department
    else:
        department = db.session.get(Department, report.department_id)
    target = target_for(department)
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
    """A confirmed report goes to its department."""
    route(report, "confirmed")


@report_rerouted.connect
def on_rerouted(report: Report, reason: str = "", staff_user=None, **_) -> None:
    """Cancel what was not sent yet, send to the (new) department, tell the reporter."""
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.report_id == report.id,
            Delivery.purpose == Purpose.DEPARTMENT.value,
            Delivery.state.in_([DeliveryState.PENDING.value, DeliveryState.FAILED.value]),
        )
        .values(state=DeliveryState.CANCELLED.value, reason=f"superseded: {reason}"[:200])
    )
    delivery = route(report, reason or "rerouted")
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
    if not change.status_enum.is_open:
        weeks = current_app.config["MANGEL_FOLLOW_UP_WEEKS"]
        add_delivery(
            report,
            Purpose.FOLLOW_UP,
            report.reporter_email,
            status_change=change,
            next_attempt_at=utcnow() + timedelta(weeks=weeks),
        )


def import_areas(data: dict, name_property: str = "name") -> int:
    """Create or replace one area per GeoJSON feature, named by a feature property."""
    features = data["features"] if data.get("type") == "FeatureCollection" else [data]
    count = 0
    for feature in features:
        name = str(feature.get("properties", {}).get(name_property, "")).strip()
        if not name:
            raise ValueError(f"feature without property {name_property!r}")
        geometry = geometry_from_geojson(feature)
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        area = db.session.scalar(select(Area).where(Area.name == name)) or Area(name=name)
        area.geojson = mapping(geometry)
        area.min_lat, area.min_lon, area.max_lat, area.max_lon = min_lat, min_lon, max_lat, max_lon
        area.size = geometry.area
        db.session.add(area)
        count += 1
    db.session.flush()
    return count


@lotse_cli.command("import-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name-property", default="name", show_default=True)
def import_areas_command(file: Path, name_property: str):
    """Import Zuständigkeitsgebiete (Ortsteile, corridors) from a GeoJSON file."""
    try:
        count = import_areas(json.loads(file.read_text(encoding="utf-8")), name_property)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{count} Gebiete importiert.")

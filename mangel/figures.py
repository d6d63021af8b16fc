"""Open figures ("So arbeiten wir") and the released reports as open data.

The figures page shows, for the last twelve months, how many reports came in, how long the
town took to respond and to finish them, and how many were finished within the target time —
per month and per category, as SVG charts with the numbers in a table beside them.  The
figures are computed from the public reports only and kept for a few minutes per process.

Open data (CSV and GeoJSON at stable URLs) holds only what the public report page shows:
number, category, status, dates, street, point, and the description only when staff released
it.  Never a name, an e-mail address or a phone number.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import defaultdict
from datetime import timedelta
from statistics import median
from zoneinfo import ZoneInfo

from flask import current_app, render_template, stream_with_context
from flask_babel import format_decimal
from sqlalchemy import func, select

from lotse.csvutil import safe_cell
from lotse.extensions import db
from lotse.models import utcnow
from lotse.urls import public_url
from mangel.models import OPEN_STATUSES, Category, Report, ReportStatus, StatusChange
from mangel.services import public_condition
from mangel.views import bp

LOCAL_TZ = ZoneInfo("Europe/Berlin")
CLOSED_VALUES = [s.value for s in ReportStatus if s not in OPEN_STATUSES]
CACHE_SECONDS = 600
OPEN_DATA_COLUMNS = (
    "nummer",
    "kategorie",
    "status",
    "gemeldet_am",
    "erledigt_am",
    "strasse",
    "breite",
    "laenge",
    "beschreibung",
)


def _public():
    return (public_condition(),)


def _closed_at():
    return (
        select(StatusChange.report_id, func.min(StatusChange.created_at).label("closed_at"))
        .where(StatusChange.status.in_(CLOSED_VALUES))
        .group_by(StatusChange.report_id)
        .subquery()
    )


def _median_days(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def compute_figures() -> dict:
    """Per month and per category over twelve months: received, response, completion."""
    target = current_app.config["MANGEL_TARGET_DAYS"]
    since = utcnow() - timedelta(days=365)
    closed = _closed_at()
    rows = db.session.execute(
        select(
            Report.category_id,
            Report.confirmed_at,
            Report.accepted_at,
            closed.c.closed_at,
        )
        .outerjoin(closed, closed.c.report_id == Report.id)
        .where(*_public(), Report.confirmed_at >= since)
        .execution_options(yield_per=5000)
    )
    names = {c.id: c.full_name for c in db.session.scalars(select(Category))}

    def bucket():
        return {"received": 0, "closed": 0, "in_target": 0, "respond": [], "complete": []}

    months: dict[str, dict] = defaultdict(bucket)
    categories: dict[str, dict] = defaultdict(bucket)
    for category_id, confirmed_at, accepted_at, closed_at in rows:
        month = confirmed_at.astimezone(LOCAL_TZ).strftime("%Y-%m")
        for group in (months[month], categories[names.get(category_id, "–")]):
            group["received"] += 1
            if accepted_at is not None:
                group["respond"].append((accepted_at - confirmed_at).total_seconds() / 86400)
            if closed_at is not None:
                days = (closed_at - confirmed_at).total_seconds() / 86400
                group["closed"] += 1
                group["complete"].append(days)
                group["in_target"] += days <= target

    def finish(group: dict) -> dict:
        return {
            "received": group["received"],
            "closed": group["closed"],
            "respond": _median_days(group["respond"]),
            "complete": _median_days(group["complete"]),
            "in_target": round(100 * group["in_target"] / group["received"])
            if group["received"]
            else None,
        }

    open_now = db.session.scalar(
        select(func.count())
        .select_from(Report)
        .where(*_public(), Report.status.in_([s.value for s in OPEN_STATUSES]))
    )
    return {
        "open": open_now,
        "target": target,
        "months": [(m, finish(g)) for m, g in sorted(months.items())],
        "categories": [(c, finish(g)) for c, g in sorted(categories.items())],
        "computed_at": utcnow(),
    }


def figures() -> dict:
    cache = current_app.extensions.setdefault("mangel_figures", {})
    if cache.get("until", 0) < time.monotonic():
        cache["value"] = compute_figures()
        cache["until"] = time.monotonic() + CACHE_SECONDS
    return cache["value"]


def bar_chart(items: list[tuple[str, float | None]], unit: str = "") -> dict:
    """Geometry of a horizontal bar chart: one bar per item, scaled to the largest value."""
    top = max((value or 0 for _label, value in items), default=0) or 1
    row = 28
    bars = [
        {
            "label": label,
            "value": value,
            "text": "–" if value is None else format_decimal(value) + unit,
            "y": i * row,
            "width": round(300 * (value or 0) / top, 1),
        }
        for i, (label, value) in enumerate(items)
    ]
    return {"bars": bars, "height": max(len(items), 1) * row}


@bp.route("/zahlen")
def figures_page():
    data = figures()
    months = data["months"]
    response = current_app.make_response(
        render_template(
            "mangel/figures.html",
            data=data,
            received_chart=bar_chart([(m, f["received"]) for m, f in months]),
            target_chart=bar_chart([(m, f["in_target"]) for m, f in months], " %"),
        )
    )
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


def _open_data_rows():
    closed = _closed_at()
    names = {c.id: c.full_name for c in db.session.scalars(select(Category))}
    rows = db.session.execute(
        select(
            Report.id,
            Report.category_id,
            Report.status,
            Report.confirmed_at,
            closed.c.closed_at,
            Report.street,
            Report.lat,
            Report.lon,
            Report.description,
            Report.description_released,
        )
        .outerjoin(closed, closed.c.report_id == Report.id)
        .where(*_public())
        .order_by(Report.id)
        .execution_options(yield_per=5000)
    )
    for row in rows:
        status = ReportStatus(row.status)
        yield {
            "nummer": row.id,
            "kategorie": names.get(row.category_id, ""),
            "status": str(status.label),
            "gemeldet_am": row.confirmed_at.astimezone(LOCAL_TZ).date().isoformat(),
            "erledigt_am": row.closed_at.astimezone(LOCAL_TZ).date().isoformat()
            if row.closed_at and not status.is_open
            else "",
            "strasse": row.street,
            "breite": round(row.lat, 5),
            "laenge": round(row.lon, 5),
            "beschreibung": row.description if row.description_released else "",
        }


def _licence_headers(response):
    licence = current_app.config["MANGEL_OPEN_DATA_LICENSE"]
    response.headers["Link"] = f'<{licence["url"]}>; rel="license"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/offene-daten/meldungen.csv")
def open_data_csv():
    def generate():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=OPEN_DATA_COLUMNS, delimiter=";")
        buffer.write("\ufeff")  # spreadsheet programs read UTF-8 with a BOM
        writer.writeheader()
        for n, row in enumerate(_open_data_rows(), start=1):
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
            if n % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = current_app.response_class(
        stream_with_context(generate()), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="maengel-meldungen.csv"'
    return _licence_headers(response)


@bp.route("/offene-daten/meldungen.geojson")
def open_data_geojson():
    licence = current_app.config["MANGEL_OPEN_DATA_LICENSE"]
    head = {
        "type": "FeatureCollection",
        "name": "maengel-meldungen",
        "license": licence["name"],
        "license_url": licence["url"],
        "attribution": current_app.config["TOWN_NAME"],
        "source": public_url("mangel.figures_page"),
    }

    def generate():
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
        for n, row in enumerate(_open_data_rows()):
            feature = {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [row.pop("laenge"), row.pop("breite")],
                },
                "properties": row,
            }
            yield ("," if n else "") + json.dumps(feature, ensure_ascii=False)
        yield "]}"

    response = current_app.response_class(
        stream_with_context(generate()), mimetype="application/geo+json"
    )
    return _licence_headers(response)

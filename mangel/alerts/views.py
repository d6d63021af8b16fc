"""Citizen pages of the alerts: subscribe, confirm, unsubscribe (one click), Atom feed."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from lotse.extensions import csrf, db, limiter
from lotse.geo import distance_m
from lotse.models import normalise_email
from lotse.urls import public_url
from mangel.alerts import services
from mangel.alerts.forms import RADII, AlertForm
from mangel.alerts.models import AlertSubscription
from mangel.forms import ConfirmForm
from mangel.models import Category, Report
from mangel.places import search_addresses, search_key
from mangel.routing.models import Area
from mangel.services import public_reports
from mangel.views import FEED_SIZE, bp

FEED_CANDIDATES = 2000


def _choices(form: AlertForm) -> None:
    areas = db.session.execute(select(Area.id, Area.name).order_by(Area.name)).all()
    form.area.choices = [SelectChoice("", _("Bitte wählen"))] + [
        SelectChoice(str(i), n) for i, n in areas
    ]
    cats = db.session.scalars(
        select(Category)
        .where(Category.active.is_(True))
        .order_by(Category.position)
        .options(selectinload(Category.children))
    ).all()
    leaves = sorted((c for c in cats if not c.children), key=lambda c: c.full_name)
    form.categories.choices = [SelectChoice(str(c.id), c.full_name) for c in leaves]
    if not areas:  # a town without areas offers circles and streets only
        form.kind.choices = [c for c in form.kind.choices if c.value != "area"]


def _place(form: AlertForm, sub: AlertSubscription) -> bool:
    """Fill the subscription's place from the form; field messages on failure."""
    if form.kind.data == "radius":
        matches = search_addresses(form.address.data or "") if form.address.data else []
        exact = [a for a in matches if a.search_key == search_key(form.address.data or "")]
        found = exact[0] if len(exact) == 1 else matches[0] if len(matches) == 1 else None
        if not form.address.data:
            form.address.errors.append(_("Bitte geben Sie eine Adresse an."))
            return False
        if found is None:
            form.address.errors.append(
                _("Mehrere Adressen passen. Bitte geben Sie die Hausnummer an.")
                if matches
                else _("Diese Adresse kennen wir nicht. Bitte prüfen Sie die Schreibweise.")
            )
            return False
        radius = int(form.radius.data) if form.radius.data in {str(r) for r in RADII} else 250
        services.set_circle(sub, found.lat, found.lon, radius)
        sub.label = _("%(m)d m um %(address)s", m=radius, address=found.label)
        return True
    if form.kind.data == "street":
        wanted = search_key(form.street.data or "")
        streets = [s for s in services.known_streets(form.street.data or "") if wanted]
        exact = [s for s in streets if search_key(s) == wanted]
        if not form.street.data:
            form.street.errors.append(_("Bitte geben Sie eine Straße an."))
            return False
        if not exact:
            form.street.errors.append(
                _(
                    "Diese Straße kennen wir nicht. Meinten Sie: %(list)s?",
                    list=", ".join(streets[:5]),
                )
                if streets
                else _("Diese Straße kennen wir nicht. Bitte prüfen Sie die Schreibweise.")
            )
            return False
        sub.kind, sub.street_key = "street", search_key(exact[0])
        sub.label = exact[0]
        return True
    area = db.session.get(Area, int(form.area.data)) if (form.area.data or "").isdigit() else None
    if area is None:
        form.area.errors.append(_("Bitte wählen Sie ein Gebiet."))
        return False
    sub.kind, sub.area_id, sub.label = "area", area.id, area.name
    return True


@bp.route("/benachrichtigungen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MANGEL_SUPPORT_LIMIT_PER_IP"], methods=["POST"])
def alert_subscribe():
    form = AlertForm()
    _choices(form)
    if form.validate_on_submit():
        if form.website.data:
            return redirect(url_for(".alert_sent"))  # a bot: nothing is stored
        sub = AlertSubscription(email=normalise_email(form.email.data))
        placed = _place(form, sub)
        if not form.on_new.data and not form.on_status.data:
            form.on_new.errors.append(_("Bitte wählen Sie mindestens eine Art von Nachricht."))
            placed = False
        if placed:
            sub.category_ids = [int(c) for c in form.categories.data or [] if c.isdigit()]
            sub.on_new, sub.on_status = bool(form.on_new.data), bool(form.on_status.data)
            sub.frequency = form.frequency.data
            services.subscribe(sub)
            db.session.commit()
            return redirect(url_for(".alert_sent"))
    status = 400 if request.method == "POST" else 200
    return render_template("mangel/alerts/subscribe.html", form=form), status


@bp.route("/benachrichtigungen/gesendet")
def alert_sent():
    return render_template("mangel/alerts/sent.html")


def _subscription(sub_id: int, purpose: str, key: str) -> AlertSubscription | None:
    if not services.valid_token(sub_id, purpose, key):
        return None
    return db.session.get(AlertSubscription, sub_id)


@bp.route("/benachrichtigungen/<int:sub_id>/bestaetigen/<key>", methods=["GET", "POST"])
def alert_confirm(sub_id: int, key: str):
    sub = _subscription(sub_id, "confirm", key)
    form = ConfirmForm()
    if sub is None:
        return render_template("mangel/alerts/confirm.html", sub=None, form=form), 404
    if form.validate_on_submit() and not sub.confirmed:
        sub.confirmed = True
        sub.confirm_expires_at = None
        db.session.commit()
        return render_template("mangel/alerts/confirm.html", sub=sub, form=form, done=True)
    return render_template("mangel/alerts/confirm.html", sub=sub, form=form, done=sub.confirmed)


@bp.route("/benachrichtigungen/<int:sub_id>/abmelden/<key>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs post "List-Unsubscribe=One-Click" without a form
def alert_unsubscribe(sub_id: int, key: str):
    sub = _subscription(sub_id, "unsubscribe", key)
    everything = request.values.get("alle") == "1"
    if request.method == "POST":
        if sub is not None:
            if everything:
                db.session.execute(
                    delete(AlertSubscription).where(AlertSubscription.email == sub.email)
                )
            else:
                db.session.delete(sub)
            db.session.commit()
        return render_template("mangel/alerts/unsubscribed.html")
    if sub is None:
        return render_template("mangel/alerts/unsubscribed.html"), 404
    return render_template("mangel/alerts/unsubscribe.html", sub=sub, everything=everything)


def _float(name: str) -> float | None:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if -1000 < value < 1000 else None


@bp.route("/benachrichtigungen/feed.atom")
def alert_feed():
    """The Atom feed of a selection: ``lat``/``lon``/``radius``, ``street`` or ``area``."""
    stmt = public_reports()
    categories = [int(c) for c in request.args.getlist("category") if c.isdigit() and len(c) < 10]
    if categories:
        stmt = stmt.where(Report.category_id.in_(categories))
    check = None
    if "radius" in request.args:
        lat, lon = _float("lat"), _float("lon")
        radius = request.args.get("radius", "")
        if lat is None or lon is None or radius not in {str(r) for r in RADII}:
            abort(400)
        probe = AlertSubscription()
        services.set_circle(probe, lat, lon, int(radius))
        stmt = stmt.where(
            Report.lat.between(probe.min_lat, probe.max_lat),
            Report.lon.between(probe.min_lon, probe.max_lon),
        )

        def check(r, lat=lat, lon=lon, radius=int(radius)):
            return distance_m(lat, lon, r.lat, r.lon) <= radius

    elif "street" in request.args:
        key = search_key(request.args["street"][:120])
        streets = [s for s in services.known_streets(request.args["street"][:120])]
        names = [s for s in streets if search_key(s) == key]
        if not names:
            abort(404)
        stmt = stmt.where(Report.street.in_(names))
    elif "area" in request.args:
        area_id = request.args["area"]
        area = (
            db.session.get(Area, int(area_id)) if area_id.isdigit() and len(area_id) < 10 else None
        )
        if area is None:
            abort(404)
        stmt = stmt.where(
            Report.lat.between(area.min_lat, area.max_lat),
            Report.lon.between(area.min_lon, area.max_lon),
        )

        def check(r, area=area):
            return services._in_area(area, r.lat, r.lon)

    else:
        abort(400)
    candidates = db.session.scalars(
        stmt.order_by(Report.updated_at.desc(), Report.id.desc())
        .limit(FEED_CANDIDATES)
        .options(selectinload(Report.category).joinedload(Category.parent))
    ).all()
    reports = [r for r in candidates if check is None or check(r)][:FEED_SIZE]
    body = render_template(
        "mangel/feed.xml",
        reports=reports,
        category=None,
        self_url=public_url("mangel.alert_feed", **request.args),
    )
    return current_app.response_class(body, mimetype="application/atom+xml")

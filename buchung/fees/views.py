"""Public fee pages: the price of a booking before it is made, a guest's bill by its link."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from sqlalchemy import select

from buchung.clock import NonexistentLocalTime, local_moment, local_today
from buchung.fees.documents import bill_page, bill_pdf
from buchung.fees.labels import (
    BILL_KIND_LABELS,
    BILL_STATUS_LABELS,
    CONDITION_LABELS,
    UNIT_LABELS,
    money,
)
from buchung.fees.models import Bill, ClubBilling
from buchung.fees.pricing import Claims, Pricer, Quote, booking_price, current_tariffs, season_price
from buchung.forms import BookingForm
from buchung.models import Resource
from buchung.views import get_resource_or_404
from lotse.extensions import db

bp = Blueprint("buchung_fees", __name__, url_prefix="/buchung")


def form_quote(form, resource: Resource) -> Quote | None:
    """The price of what the booking form holds, once day, times and group are given."""
    day, start, end = form.day.data, form.start.data, form.end.data
    group = form.customer_group.data
    if not (isinstance(day, date) and start and end and group):
        return None
    first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute or 1440
    if last <= first:
        return None
    try:
        moments = local_moment(day, first, strict=True), local_moment(day, last, strict=True)
    except NonexistentLocalTime:
        return None
    claims = Claims(youth=bool(form.youth.data), cleaning=bool(form.cleaning.data))
    return Pricer().quote(resource, *moments, group, claims)


@bp.route("/<int:resource_id>/preis")
def price(resource_id: int):
    """The price of a booking as the form is filled in (the form's script asks as you type)."""
    resource = get_resource_or_404(resource_id)
    form = BookingForm(formdata=request.args, meta={"csrf": False})
    quote = form_quote(form, resource)
    if quote is None:
        return jsonify(error="incomplete", html=""), 422
    return jsonify(
        lines=quote.lines,
        total_cents=quote.total_cents,
        html=render_template("buchung/_price.html", quote=quote),
    )


@bp.route("/beleg/<token>")
def bill(token: str):
    """A guest's bill behind its private link."""
    bill = guest_bill(token)
    return bill_page(bill, "", url_for(".bill_pdf", token=token))


@bp.route("/beleg/<token>.pdf", endpoint="bill_pdf")
def bill_pdf_view(token: str):
    """A guest's bill as a tagged PDF."""
    return bill_pdf(guest_bill(token))


def guest_bill(token: str) -> Bill:
    bill = db.session.scalar(select(Bill).where(Bill.token == token))
    if bill is None:
        abort(404)
    return bill


@bp.app_context_processor
def price_helpers() -> dict:
    """Prices for the booking form, the series preview, the booking page and the mails."""
    return {
        "booking_price": booking_price,
        "form_price": form_quote,
        "season_price": season_price,
        "current_tariffs": current_tariffs,
        "fee_money": money,
        "bill_status_labels": BILL_STATUS_LABELS,
        "bill_kind_labels": BILL_KIND_LABELS,
        "club_billing": lambda bill: (
            db.session.get(ClubBilling, bill.club_id) if bill.club_id else None
        ),
        "today": local_today,
        "fee_unit_labels": UNIT_LABELS,
        "fee_condition_labels": CONDITION_LABELS,
    }

"""The club's fee pages: its bills, and the SEPA direct-debit mandate it gives the town."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from buchung.club_views import club_required, current_club
from buchung.fees.documents import bill_page, bill_pdf
from buchung.fees.forms import MandateForm
from buchung.fees.models import Bill, ClubBilling
from lotse.extensions import db

bp = Blueprint("buchung_fees_club", __name__, url_prefix="/buchung/verein/gebuehren")


@bp.route("/")
@club_required
def bills():
    """The club's Gebührenbescheide, newest first, and the state of its SEPA mandate."""
    club = current_club()
    return render_template(
        "buchung/fees/club/bills.html",
        club=club,
        billing=db.session.get(ClubBilling, club.id),
        bills=list(
            db.session.scalars(
                select(Bill)
                .where(Bill.club_id == club.id)
                .order_by(Bill.year.desc(), Bill.sequence.desc())
            )
        ),
    )


def own_bill(bill_id: int) -> Bill:
    bill = db.get_or_404(Bill, bill_id)
    if bill.club_id != current_club().id:
        abort(404)
    return bill


@bp.route("/beleg/<int:bill_id>")
@club_required
def bill(bill_id: int):
    """One of the club's bills."""
    bill = own_bill(bill_id)
    return bill_page(bill, url_for(".bills"), url_for(".bill_pdf", bill_id=bill.id))


@bp.route("/beleg/<int:bill_id>.pdf", endpoint="bill_pdf")
@club_required
def bill_pdf_view(bill_id: int):
    """One of the club's bills as a tagged PDF."""
    return bill_pdf(own_bill(bill_id))


@bp.route("/lastschrift", methods=["GET", "POST"])
@club_required
def mandate():
    """Enter or renew the SEPA mandate: IBAN checked, reference and date as signed."""
    club = current_club()
    billing = db.session.get(ClubBilling, club.id)
    data = None
    if billing is not None:
        data = {
            "address": billing.address,
            "account_holder": billing.account_holder,
            "iban": billing.iban,
            "bic": billing.bic,
            "mandate_reference": billing.mandate_reference,
            "signed_on": billing.mandate_signed_on,
        }
    form = MandateForm(data=data)
    if form.validate_on_submit() and (bic := form.validated_bic()) is not None:
        if billing is None:
            billing = ClubBilling(club_id=club.id, group_key="club")
            db.session.add(billing)
        renewed = billing.mandate_reference != form.mandate_reference.data.strip()
        billing.address = form.address.data.strip()
        billing.account_holder = form.account_holder.data.strip()
        billing.iban = form.clean_iban.compact
        billing.bic = bic
        billing.mandate_reference = form.mandate_reference.data.strip()
        billing.mandate_signed_on = form.signed_on.data
        if renewed:
            billing.first_collected_at = None  # a new mandate starts with a first collection
        db.session.commit()
        flash(_("Ihr SEPA-Lastschriftmandat ist gespeichert."), "success")
        return redirect(url_for(".bills"))
    return render_template("buchung/fees/club/mandate.html", form=form, club=club)

"""Staff pages of fees: bills per club and month, the monthly run, Storno, payments,
reminders, the SEPA file and the Sollstellung for the Stadtkasse."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from buchung.clock import local_today
from buchung.club_models import Club
from buchung.fees import billing, sepa
from buchung.fees.documents import bill_page, bill_pdf
from buchung.fees.forms import ImportForm, MonthForm, PaidForm, StornoForm
from buchung.fees.labels import money
from buchung.fees.mails import mail_bill, mail_reminder
from buchung.fees.models import Bill, BillKind, BillStatus
from buchung.forms import ConfirmForm
from lotse.auth import roles_required
from lotse.extensions import db

bp = Blueprint("buchung_fees_admin", __name__, url_prefix="/verwaltung/buchung/gebuehren")
office_required = roles_required("booking_office")


def month_label(month: date) -> str:
    """``Dezember 2026``, in the reader's language."""
    return format_date(month, "MMMM yyyy")


def recent_months(count: int = 15) -> list[date]:
    """The next two months, this month and the ones before it, newest first (a month is
    billed after it, or ahead of it for a season)."""
    month = local_today().replace(day=1)
    for _i in range(2):
        month = (month + timedelta(days=32)).replace(day=1)
    found = []
    for _i in range(count):
        found.append(month)
        month = (month.replace(day=1) - date.resolution).replace(day=1)
    return found


def month_form() -> MonthForm:
    form = MonthForm()
    months = recent_months()
    form.month.choices = [SelectChoice(m.isoformat(), month_label(m)) for m in months]
    if not form.month.data or form.month.data == "None":
        shown = month_arg()  # the month just billed or filtered stays chosen
        default = months[3 if local_today().day < 5 else 2]
        form.month.data = (shown if shown in months else default).isoformat()
    return form


def month_arg() -> date | None:
    try:
        return date.fromisoformat(request.args.get("monat", "") + "-01")
    except ValueError:
        return None


@bp.route("/")
@office_required
def bills():
    """Bills per club and month: open and paid sums, the list, and the office's actions."""
    query = select(Bill).order_by(Bill.year.desc(), Bill.sequence.desc())
    month = month_arg()
    if month is not None:
        query = query.where(Bill.period_start == month)
    club_id = request.args.get("verein", type=int)
    if club_id:
        query = query.where(Bill.club_id == club_id)
    status = request.args.get("stand", "")
    if status in BillStatus.__members__.values():
        query = query.where(Bill.status == status)
    rows = list(db.session.scalars(query))
    summary: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: {"open": 0, "paid": 0})
    for bill in rows:
        if bill.status in (BillStatus.OPEN, BillStatus.PAID):
            summary[(bill.payer_name, bill.period_start)][bill.status] += bill.total_cents
    return render_template(
        "buchung/fees/admin/bills.html",
        bills=rows,
        summary=sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True),
        clubs=list(db.session.scalars(select(Club).order_by(Club.name))),
        months=recent_months(),
        month_label=month_label,
        selected={"monat": request.args.get("monat", ""), "verein": club_id, "stand": status},
        month_form=month_form(),
        import_form=ImportForm(),
        confirm_form=ConfirmForm(),
        collectable=sepa.collectable(),
        overdue_count=len(billing.overdue()),
    )


@bp.route("/abrechnen", methods=["POST"])
@office_required
def bill_month():
    """Bill a month: one Gebührenbescheid per club and per guest, mailed to the payer."""
    form = month_form()
    if not form.validate_on_submit():
        abort(400)
    month = date.fromisoformat(form.month.data)
    issued = billing.bill_month(month, current_user)
    for bill in issued:
        mail_bill(bill)
    db.session.commit()
    if issued:
        flash(
            ngettext(
                "%(num)d Bescheid über %(sum)s erstellt.",
                "%(num)d Bescheide über zusammen %(sum)s erstellt.",
                len(issued),
                sum=money(sum(b.total_cents for b in issued)),
            ),
            "success",
        )
    else:
        flash(_("Für %(month)s ist nichts abzurechnen.", month=month_label(month)), "info")
    return redirect(url_for(".bills", monat=month.strftime("%Y-%m")))


def staff_bill(bill_id: int) -> Bill:
    return db.get_or_404(Bill, bill_id)


@bp.route("/beleg/<int:bill_id>")
@office_required
def bill(bill_id: int):
    """One bill as the payer reads it, with payment, Storno and reminder for the office."""
    bill = staff_bill(bill_id)
    return bill_page(
        bill,
        url_for(".bills"),
        url_for(".bill_pdf", bill_id=bill.id),
        staff=True,
        paid_form=PaidForm(data={"paid_on": local_today()}),
        storno_form=StornoForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/beleg/<int:bill_id>.pdf", endpoint="bill_pdf")
@office_required
def bill_pdf_view(bill_id: int):
    """The bill as a tagged PDF."""
    return bill_pdf(staff_bill(bill_id))


@bp.route("/beleg/<int:bill_id>/bezahlt", methods=["POST"])
@office_required
def mark_paid(bill_id: int):
    """Mark an open bill paid by hand (cash, transfer seen in the account)."""
    bill = staff_bill(bill_id)
    form = PaidForm()
    if bill.status != BillStatus.OPEN:
        flash(_("Dieser Beleg ist nicht offen."), "error")
    elif form.validate_on_submit():
        billing.mark_paid(bill, form.paid_on.data, note=_("von Hand"))
        db.session.commit()
        flash(_("%(number)s ist als bezahlt vermerkt.", number=bill.number), "success")
    else:
        flash(_("Bitte geben Sie das Datum der Zahlung an."), "error")
    return redirect(url_for(".bill", bill_id=bill.id))


@bp.route("/beleg/<int:bill_id>/storno", methods=["POST"])
@office_required
def cancel_bill(bill_id: int):
    """Correct a bill: a Storno document cancels it, a new bill replaces it; both stay."""
    bill = staff_bill(bill_id)
    form = StornoForm()
    if bill.kind == BillKind.STORNO or bill.status != BillStatus.OPEN:
        flash(_("Nur offene Bescheide können storniert werden."), "error")
        return redirect(url_for(".bill", bill_id=bill.id))
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie einen Grund an."), "error")
        return redirect(url_for(".bill", bill_id=bill.id))
    cancel_doc, replacement = billing.storno(bill, current_user, form.reason.data.strip())
    mail_bill(cancel_doc)
    if replacement is not None:
        mail_bill(replacement)
    db.session.commit()
    flash(_("Storniert mit %(number)s.", number=cancel_doc.number), "success")
    return redirect(url_for(".bill", bill_id=(replacement or cancel_doc).id))


@bp.route("/beleg/<int:bill_id>/mahnung", methods=["POST"])
@office_required
def remind(bill_id: int):
    """Send a payment reminder for one overdue bill."""
    bill = staff_bill(bill_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _remind([bill])
    return redirect(url_for(".bill", bill_id=bill.id))


@bp.route("/mahnungen", methods=["GET", "POST"])
@office_required
def reminders():
    """Overdue bills; "Erinnern" mails every payer whose bill is past due."""
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids = set(request.form.getlist("bill_ids", type=int))
        _remind([b for b in billing.overdue() if b.id in ids])
        return redirect(url_for(".reminders"))
    return render_template("buchung/fees/admin/reminders.html", bills=billing.overdue(), form=form)


def _remind(bills: list[Bill]) -> None:
    today = local_today()
    sent = 0
    for bill in bills:
        if bill.status == BillStatus.OPEN and bill.due_on < today and mail_reminder(bill):
            bill.reminders += 1
            bill.reminded_on = today
            sent += 1
    db.session.commit()
    if sent:
        flash(
            ngettext("%(num)d Erinnerung verschickt.", "%(num)d Erinnerungen verschickt.", sent),
            "success",
        )
    else:
        flash(_("Keine Erinnerung verschickt: nichts überfällig oder keine Adresse."), "info")


@bp.route("/lastschrift.xml", methods=["POST"])
@office_required
def sepa_export():
    """The pain.008 direct-debit file of every open club bill with a mandate."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    export = sepa.export_direct_debits()
    if export is None:
        flash(_("Keine offenen Bescheide mit SEPA-Mandat."), "info")
        return redirect(url_for(".bills"))
    db.session.commit()
    response = make_response(export.xml)
    response.headers["Content-Type"] = "application/xml"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="lastschrift-{export.message_id}.xml"'
    )
    return response


@bp.route("/sollstellung.csv")
@office_required
def sollstellung():
    """Every bill (optionally of one month) as CSV for the town's finance system."""
    query = select(Bill).order_by(Bill.year, Bill.sequence)
    month = month_arg()
    if month is not None:
        query = query.where(Bill.period_start == month)
    response = make_response(sepa.sollstellung_csv(list(db.session.scalars(query))))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    suffix = f"-{month:%Y-%m}" if month else ""
    response.headers["Content-Disposition"] = f'attachment; filename="sollstellung{suffix}.csv"'
    return response


@bp.route("/zahlungen", methods=["POST"])
@office_required
def import_payments():
    """Mark bills paid from the Stadtkasse's CSV of payments received."""
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Bitte wählen Sie eine CSV-Datei."), "error")
        return redirect(url_for(".bills"))
    result = sepa.import_payments(form.file.data.read())
    db.session.commit()
    if result.paid:
        flash(
            ngettext(
                "%(num)d Beleg als bezahlt vermerkt.",
                "%(num)d Belege als bezahlt vermerkt.",
                len(result.paid),
            ),
            "success",
        )
    for problem in result.problems:
        flash(problem, "error")
    if not result.paid and not result.problems:
        flash(_("Die Datei enthielt keine Zahlungen."), "info")
    return redirect(url_for(".bills"))


from buchung.fees import admin_tariffs  # noqa: E402, F401 - routes on this blueprint

"""Mails about bills: the bill issued, and the reminder (Mahnung) for an overdue one."""

from __future__ import annotations

from flask_babel import gettext as _

from buchung.club_models import Club
from buchung.fees.labels import BILL_KIND_LABELS
from buchung.fees.models import Bill
from buchung.services.notices import club_addresses
from lotse.extensions import db
from lotse.outbox import queue_mail
from lotse.urls import public_url


def payer_addresses(bill: Bill) -> list[str]:
    """The club's confirmed logins, else the guest's address."""
    if bill.club_id:
        return club_addresses(db.session.get(Club, bill.club_id))
    return [bill.payer_email] if bill.payer_email else []


def bill_link(bill: Bill) -> str:
    """Where the payer reads the bill: the club area, or the bill's private link."""
    if bill.club_id:
        return public_url("buchung_fees_club.bill", bill_id=bill.id)
    return public_url("buchung_fees.bill", token=bill.token)


def mail_bill(bill: Bill) -> None:
    """Tell the payer a bill (or a Storno) is issued, with the link to its page and PDF."""
    to = payer_addresses(bill)
    if not to:
        return
    queue_mail(
        to,
        _("%(kind)s %(number)s", kind=BILL_KIND_LABELS[bill.kind], number=bill.number),
        "buchung/fees/emails/bill",
        kind=f"buchung.fee_{bill.kind}",
        ref=f"bill:{bill.id}",
        bill=bill,
        kind_label=BILL_KIND_LABELS[bill.kind],
        link=bill_link(bill),
    )


def mail_reminder(bill: Bill) -> bool:
    """The Zahlungserinnerung for an overdue bill; ``False`` when nobody can be mailed."""
    to = payer_addresses(bill)
    if not to:
        return False
    queue_mail(
        to,
        _(
            "Zahlungserinnerung: %(kind)s %(number)s",
            kind=BILL_KIND_LABELS[bill.kind],
            number=bill.number,
        ),
        "buchung/fees/emails/reminder",
        kind="buchung.fee_reminder",
        ref=f"bill:{bill.id}",
        bill=bill,
        link=bill_link(bill),
    )
    return True

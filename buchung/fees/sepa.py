"""SEPA direct debit (pain.008) for the Stadtkasse, the Sollstellung CSV and the paid-CSV import."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaDD
from sqlalchemy import select

from buchung.clock import local_today
from buchung.fees.labels import BILL_KIND_LABELS, BILL_STATUS_LABELS
from buchung.fees.models import Bill, BillKind, BillStatus, ClubBilling
from lotse.csvutil import csv_text
from lotse.extensions import db
from lotse.models import utcnow

SEPA_SCHEMA = "pain.008.001.02"


def clean_iban(text: str) -> IBAN:
    """The IBAN typed in (spaces allowed); raises ``ValueError`` when it is not valid."""
    try:
        return IBAN(text)
    except SchwiftyException as error:
        raise ValueError(str(error)) from error


def bic_for(iban: IBAN, typed: str) -> str:
    """The BIC typed in, else the one the bank registry knows for the IBAN ("" if none)."""
    if typed.strip():
        try:
            return str(BIC(typed.strip()))
        except SchwiftyException as error:
            raise ValueError(str(error)) from error
    try:
        return str(iban.bic) if iban.bic else ""
    except SchwiftyException:
        return ""


def collectable() -> list[tuple[Bill, ClubBilling]]:
    """Open club bills with a mandate, not in a direct-debit file yet."""
    rows = db.session.execute(
        select(Bill, ClubBilling)
        .join(ClubBilling, ClubBilling.club_id == Bill.club_id)
        .where(
            Bill.status == BillStatus.OPEN,
            Bill.kind != BillKind.STORNO,
            Bill.sepa_message_id == "",
            Bill.total_cents > 0,
        )
        .order_by(Bill.number)
    ).all()
    return [(bill, billing) for bill, billing in rows if billing.has_mandate]


def collection_date(bills: list[Bill], today: date | None = None) -> date:
    """The latest due date of the bills, at least two bank days ahead (D-2 for CORE)."""
    today = today or local_today()
    earliest = today + timedelta(days=2)
    while earliest.weekday() >= 5:
        earliest += timedelta(days=1)
    return max([earliest, *(b.due_on for b in bills)])


@dataclass
class Export:
    xml: bytes
    message_id: str
    count: int
    total_cents: int
    bills: list[Bill] = field(default_factory=list)


def export_direct_debits(today: date | None = None) -> Export | None:
    """A pain.008 file collecting every collectable bill; the bills remember the file."""
    rows = collectable()
    if not rows:
        return None
    config = current_app.config
    when = collection_date([b for b, _ in rows], today)
    sepa = SepaDD(
        {
            "name": config["BUCHUNG_SEPA_CREDITOR_NAME"],
            "IBAN": config["BUCHUNG_SEPA_CREDITOR_IBAN"],
            "BIC": config["BUCHUNG_SEPA_CREDITOR_BIC"],
            "batch": True,
            "creditor_id": config["BUCHUNG_SEPA_CREDITOR_ID"],
            "currency": "EUR",
        },
        schema=SEPA_SCHEMA,
        clean=True,
    )
    message_id = sepa.msg_id
    for bill, billing in rows:
        payment = {
            "name": (billing.account_holder or billing.club.name)[:70],
            "IBAN": billing.iban,
            "amount": bill.total_cents,
            "type": "RCUR" if billing.first_collected_at else "FRST",
            "collection_date": when,
            "mandate_id": billing.mandate_reference,
            "mandate_date": billing.mandate_signed_on,
            "description": f"{BILL_KIND_LABELS[bill.kind]} {bill.number}"[:140],
            "endtoend_id": bill.number.replace("-", ""),
        }
        if billing.bic:
            payment["BIC"] = billing.bic
        sepa.add_payment(payment)
    xml = sepa.export(validate=True, pretty_print=True)
    for bill, billing in rows:
        bill.sepa_message_id = message_id
        billing.first_collected_at = billing.first_collected_at or utcnow()
    db.session.flush()
    bills = [b for b, _ in rows]
    return Export(xml, message_id, len(bills), sum(b.total_cents for b in bills), bills)


def euro(cents: int) -> str:
    """``-3550`` → ``-35,50``: how a German spreadsheet reads an amount."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


class Amount:
    """An amount cell: a number to the spreadsheet, so the formula guard (which quotes
    text starting with ``-``) leaves a negative Storno amount a number."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __str__(self) -> str:
        return euro(self.cents)


SOLL_HEADER = (
    "Belegnummer",
    "Belegart",
    "Belegdatum",
    "Fällig am",
    "Zahlungspflichtig",
    "Anschrift",
    "Leistungszeitraum",
    "Betrag (EUR)",
    "Stand",
    "Storno zu",
    "Bezahlt am",
    "Lastschrift",
)


def sollstellung_csv(bills: list[Bill]) -> bytes:
    """Every bill as a row for the finance system; UTF-8 with BOM so Excel reads umlauts."""
    rows = [
        (
            b.number,
            str(BILL_KIND_LABELS[b.kind]),
            b.issued_on.strftime("%d.%m.%Y"),
            b.due_on.strftime("%d.%m.%Y"),
            b.payer_name,
            b.payer_address,
            f"{b.period_start:%d.%m.%Y}–{b.period_end:%d.%m.%Y}",
            Amount(b.total_cents),
            str(BILL_STATUS_LABELS[b.status]),
            b.cancels.number if b.cancels else "",
            b.paid_on.strftime("%d.%m.%Y") if b.paid_on else "",
            b.sepa_message_id,
        )
        for b in bills
    ]
    return ("\ufeff" + csv_text(SOLL_HEADER, rows)).encode("utf-8")


@dataclass
class ImportResult:
    paid: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_amount(text: str) -> int:
    """``35,00`` or ``1.234,50`` or ``35.00`` → cents; raises ``ValueError``."""
    text = text.strip().replace("€", "").replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d{1,2})?|-?\d+(,\d{1,2})?", text):
        text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(text) from error
    return int((value * 100).to_integral_value())


def parse_day(text: str) -> date:
    text = text.strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def import_payments(data: bytes) -> ImportResult:
    """Mark bills paid from the Stadtkasse's CSV: columns Belegnummer, Betrag, Bezahlt am
    (semicolon or comma separated, header names as in the Sollstellung)."""
    from flask_babel import gettext as _

    from buchung.fees.billing import mark_paid

    result = ImportResult()
    text = data.decode("utf-8-sig", errors="replace")
    dialect = ";" if text.count(";") >= text.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect)
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    number_col = fields.get("belegnummer")
    amount_col = fields.get("betrag (eur)") or fields.get("betrag")
    day_col = fields.get("bezahlt am") or fields.get("zahlungsdatum")
    if not (number_col and amount_col):
        result.problems.append(_("Die Datei braucht die Spalten „Belegnummer“ und „Betrag“."))
        return result
    for line, row in enumerate(reader, start=2):
        number = (row.get(number_col) or "").strip()
        if not number:
            continue
        bill = db.session.scalar(select(Bill).where(Bill.number == number))
        try:
            cents = parse_amount(row.get(amount_col) or "")
            paid_on = parse_day(row.get(day_col) or "") if day_col else local_today()
        except ValueError:
            result.problems.append(_("Zeile %(line)s: Betrag oder Datum unlesbar.", line=line))
            continue
        if bill is None:
            result.problems.append(
                _("Zeile %(line)s: Beleg %(number)s gibt es nicht.", line=line, number=number)
            )
        elif bill.status != BillStatus.OPEN:
            result.problems.append(
                _("Zeile %(line)s: Beleg %(number)s ist nicht offen.", line=line, number=number)
            )
        elif cents != bill.total_cents:
            result.problems.append(
                _(
                    "Zeile %(line)s: Beleg %(number)s – Betrag %(paid)s weicht von %(total)s ab.",
                    line=line,
                    number=number,
                    paid=euro(cents),
                    total=euro(bill.total_cents),
                )
            )
        else:
            mark_paid(bill, paid_on, cents, _("CSV-Import"))
            result.paid.append(number)
    return result

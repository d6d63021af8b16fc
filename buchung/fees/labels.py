"""German labels of the fee vocabulary, and money and hours in German formats."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_currency, format_decimal
from flask_babel import lazy_gettext as _l

from buchung.fees.models import AdjustmentCondition, BillKind, BillStatus, FeeUnit

UNIT_LABELS = {FeeUnit.HOUR: _l("je Stunde"), FeeUnit.USE: _l("je Nutzung")}
CONDITION_LABELS = {
    AdjustmentCondition.WEEKEND: _l("am Wochenende"),
    AdjustmentCondition.CLEANING: _l("bei zusätzlicher Reinigung"),
    AdjustmentCondition.YOUTH: _l("für Jugendmannschaften"),
    AdjustmentCondition.NON_PROFIT: _l("für gemeinnützige Vereine"),
}
BILL_KIND_LABELS = {
    BillKind.BESCHEID: _l("Gebührenbescheid"),
    BillKind.RECHNUNG: _l("Rechnung"),
    BillKind.STORNO: _l("Stornobeleg"),
}
BILL_STATUS_LABELS = {
    BillStatus.OPEN: _l("offen"),
    BillStatus.PAID: _l("bezahlt"),
    BillStatus.CANCELLED: _l("storniert"),
    BillStatus.SETTLED: _l("Storno"),
}


def money(cents: int) -> str:
    """``3500`` → ``35,00 €`` (the locale's format); exact, never through a float."""
    return format_currency(Decimal(cents) / 100, "EUR")


def hours(minutes: int) -> str:
    """``90`` → ``1,5``: the hours of a booking as the locale writes a number."""
    return format_decimal(Decimal(minutes) / 60, format="#,##0.##")

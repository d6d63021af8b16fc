"""Fees: the Gebührensatzung, the price before booking, Gebührenbescheide and SEPA.

Plugged in by ``buchung.init_app``; the booking pages show prices through the templates
``buchung/_price.html`` (form and page) and ``buchung/emails/_price.txt`` (mails).
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from lotse.hooks import register_seeder, register_staff_link

DEFAULTS = {
    # "bescheid": public-law fees with a Rechtsbehelfsbelehrung; "rechnung": an invoice.
    "BUCHUNG_FEE_DOCUMENT": "bescheid",
    "BUCHUNG_FEE_DUE_DAYS": 14,  # a bill is due this many days after it is issued
    "BUCHUNG_FEE_OFFICE": "Der Bürgermeister – Sport- und Bäderamt",
    "BUCHUNG_FEE_ADDRESS": "Rathausplatz 1, 52372 Musterstadt",
    "BUCHUNG_FEE_LEGAL_BASIS": "Gebührensatzung für die Benutzung der städtischen Sporthallen",
    # Rechtsbehelfsbelehrung printed on every Gebührenbescheid (NRW: Klage, no Widerspruch).
    "BUCHUNG_FEE_REMEDY": (
        "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Klage beim "
        "Verwaltungsgericht Aachen, Adalbertsteinweg 92, 52070 Aachen, erhoben werden. Die "
        "Klage ist schriftlich oder zur Niederschrift der Urkundsbeamtin oder des "
        "Urkundsbeamten der Geschäftsstelle des Gerichts zu erheben. Die Erhebung der Klage "
        "hat keine aufschiebende Wirkung (§ 80 Abs. 2 Nr. 1 VwGO); der Betrag ist daher "
        "fristgerecht zu zahlen."
    ),
    # The Stadtkasse as SEPA creditor (demo values; the Gläubiger-ID is a test ID).
    "BUCHUNG_SEPA_CREDITOR_ID": "DE98ZZZ09999999999",
    "BUCHUNG_SEPA_CREDITOR_NAME": "Stadtkasse Musterstadt",
    "BUCHUNG_SEPA_CREDITOR_IBAN": "DE02370501980001802057",
    "BUCHUNG_SEPA_CREDITOR_BIC": "COLSDE33XXX",
}


def init_app(app: Flask) -> None:
    """Config defaults, the staff and club pages of fees and bills, the staff link."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    from buchung.fees import admin, club, demo, views

    app.register_blueprint(admin.bp)
    app.register_blueprint(club.bp)
    app.register_blueprint(views.bp)
    register_seeder(app, demo.seed)
    register_staff_link(
        app, _l("Gebühren und Gebührenbescheide"), "buchung_fees_admin.bills", "booking_office"
    )

"""What a failed delivery means, in words an admin can act on.

The outbox rows keep the technical error (``"URLError: <urlopen error [Errno 111]
Connection refused>"``) for whoever debugs the network; pages and the test delivery show
what it means and the state in German ("fehlgeschlagen – nächster Versuch 14:05").
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import format_datetime, format_time, to_user_timezone
from flask_babel import gettext as _

from lotse.models import utcnow

_HTTP_STATUS = re.compile(r"HTTP Error (\d{3})")
_SMTP_CODE = re.compile(r"\b([45]\d\d)\b")


def human_error(raw: str | None) -> str:
    """A stored delivery or mail error as a German sentence (empty for no error)."""
    if not raw:
        return ""
    text = raw.lower()
    status = _HTTP_STATUS.search(raw)
    if status:
        code = int(status.group(1))
        if code >= 500:
            return _("Beim Empfänger ist ein Fehler aufgetreten (HTTP %(code)d).", code=code)
        return _("Der Empfänger hat die Zustellung abgelehnt (HTTP %(code)d).", code=code)
    rules = [
        (("certificate", "ssl"), _("Das Zertifikat des Empfängers ist ungültig oder abgelaufen.")),
        (
            (
                "name or service not known",
                "nodename nor servname",
                "getaddrinfo",
                "name resolution",
            ),
            _("Den Rechnernamen des Empfängers gibt es nicht (DNS)."),
        ),
        (("timed out", "timeout"), _("Der Empfänger hat nicht rechtzeitig geantwortet.")),
        (
            ("connection refused",),
            _("Der Empfänger war nicht erreichbar (Verbindung abgelehnt)."),
        ),
        (
            ("network is unreachable", "no route to host"),
            _("Das Netz des Empfängers ist nicht erreichbar."),
        ),
        (("connection reset", "remote end closed", "disconnected"), _("Die Verbindung brach ab.")),
        (("smtpauthenticationerror",), _("Die Anmeldung am Mailserver ist fehlgeschlagen.")),
        (("smtpsenderrefused",), _("Der Mailserver hat die Absenderadresse abgelehnt.")),
        (("smtprecipientsrefused",), _("Der Mailserver hat die Empfängeradresse abgelehnt.")),
        (("has no webhook",), _("Der Fachbereich hat keinen Webhook mehr.")),
        (("not an http",), _("Die Webhook-Adresse ist ungültig.")),
    ]
    for needles, message in rules:
        if any(needle in text for needle in needles):
            return message
    if text.startswith("smtp"):
        code = _SMTP_CODE.search(raw)
        if code:
            return _("Der Mailserver hat die E-Mail abgelehnt (Code %(code)s).", code=code.group(1))
        return _("Der Mailserver hat die E-Mail nicht angenommen.")
    return _("Unbekannter Fehler bei der Zustellung.")


def _when(moment: datetime) -> str:
    """14:05 today, else 03.12.2026, 14:05 (local time)."""
    if to_user_timezone(moment).date() == to_user_timezone(utcnow()).date():
        return format_time(moment, "HH:mm")
    return format_datetime(moment, "dd.MM.yyyy, HH:mm")


def state_label(
    *,
    sent: bool = False,
    given_up: bool = False,
    cancelled: bool = False,
    sending: bool = False,
    attempts: int = 0,
    next_attempt_at: datetime | None = None,
) -> str:
    """Where a delivery or mail stands, as the admin reads it."""
    if sent:
        return _("zugestellt")
    if cancelled:
        return _("abgebrochen (neu zugeordnet)")
    if given_up:
        return _("fehlgeschlagen – aufgegeben nach %(n)d Versuchen", n=attempts)
    if sending:
        return _("wird gerade gesendet")
    if attempts and next_attempt_at is not None:
        return _("fehlgeschlagen – nächster Versuch %(when)s", when=_when(next_attempt_at))
    return _("ausstehend")

"""Feedback on barriers, asked for by the Erklärung zur Barrierefreiheit (BITV 2.0 § 7).

Citizens need no account and may stay anonymous; the message goes by mail to the town's
accessibility contact (``ACCESSIBILITY_FEEDBACK_TO``), with Reply-To set when they gave
an address.  Nothing is stored but the outbox row, whose body is cleared once sent.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from lotse.inputs import LotseForm
from lotse.outbox import describe, queue_mail

OPTIONAL = _l("Freiwillig.")
KIND = "lotse.accessibility_feedback"
describe(KIND, _l("Rückmeldung zur Barrierefreiheit"))


class FeedbackForm(LotseForm):
    message = TextAreaField(
        _l("Was funktioniert nicht?"),
        validators=[
            DataRequired(_l("Bitte beschreiben Sie die Barriere.")),
            Length(max=5000, message=_l("Bitte schreiben Sie höchstens 5000 Zeichen.")),
        ],
        description=_l(
            "Beschreiben Sie, was Sie tun wollten und was nicht ging. Nennen Sie gern auch "
            "Ihr Hilfsmittel, zum Beispiel einen Screenreader."
        ),
    )
    page_url = StringField(
        _l("Auf welcher Seite?"),
        validators=[Optional(), Length(max=500)],
        description=_l("Freiwillig. Die Adresse oder der Name der Seite."),
    )
    name = StringField(
        _l("Ihr Name"),
        validators=[Optional(), Length(max=120)],
        description=OPTIONAL,
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Ihre E-Mail-Adresse"),
        validators=[
            Optional(),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
        description=_l("Freiwillig. Nur nötig, wenn Sie eine Antwort möchten."),
        render_kw={"autocomplete": "email"},
    )
    # Honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Dieses Feld bitte leer lassen"))
    submit = SubmitField(_l("Rückmeldung senden"))

    def is_spam(self) -> bool:
        return bool(self.website.data)

    def queue_mail(self) -> None:
        """Add the mail to the town's accessibility contact to the outbox (sent on commit)."""
        message, page_url, name, email = (
            (field.data or "").strip()
            for field in (self.message, self.page_url, self.name, self.email)
        )
        queue_mail(
            current_app.config["ACCESSIBILITY_FEEDBACK_TO"],
            "Rückmeldung zur Barrierefreiheit",
            "emails/accessibility_feedback",
            kind=KIND,
            message=message,
            page_url=page_url,
            name=name,
            email=email,
            reply_to=email or None,
        )

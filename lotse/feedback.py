"""Feedback on barriers, asked for by the Erklärung zur Barrierefreiheit (BITV 2.0 § 7).

Citizens need no account and may stay anonymous; the message goes by mail to the town's
accessibility contact (``ACCESSIBILITY_FEEDBACK_TO``), with Reply-To set when they gave
an address.  Nothing is stored.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from lotse.inputs import LotseForm
from lotse.mail import send_template

OPTIONAL = _l("Freiwillig.")


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

    def job_args(self) -> list[str]:
        """The arguments of ``send_feedback``: message, page, name, e-mail."""
        fields = (self.message, self.page_url, self.name, self.email)
        return [(field.data or "").strip() for field in fields]


def send_feedback(message: str, page_url: str, name: str, email: str) -> None:
    """Job: mail a citizen's report of a barrier to the town's accessibility contact."""
    send_template(
        current_app.config["ACCESSIBILITY_FEEDBACK_TO"],
        "Rückmeldung zur Barrierefreiheit",
        "emails/accessibility_feedback",
        message=message,
        page_url=page_url,
        name=name,
        email=email,
        reply_to=email or None,
    )

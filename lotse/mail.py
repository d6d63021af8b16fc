"""Outgoing mail for both services.

With ``MAIL_SERVER`` set, mail goes out over SMTP; in the embedded default it is written
as ``.eml`` files to ``instance/mail/`` so a town can try Lotse without a mail server.
``MAIL_REDIRECT_TO`` is the staging switch: every message goes to that address instead,
with the intended recipients named in a header.

Nothing calls this module to send but an outbox (``lotse.outbox``, mangel's ``Delivery``):
``send_message`` refuses to run outside ``sending()``, so a mail without a row in the
database — one a crash or an outage could lose — cannot be sent.
"""

from __future__ import annotations

import contextlib
import contextvars
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template
from jinja2 import TemplateNotFound

_sending: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "lotse_outbox_sending", default=False
)


class NotAnOutboxSender(RuntimeError):
    """A mail was to be sent without an outbox row behind it."""


@contextlib.contextmanager
def sending():
    """Mark the code inside as an outbox sender: ``send_message`` runs only here."""
    token = _sending.set(True)
    try:
        yield
    finally:
        _sending.reset(token)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def build_message(
    to: str | list[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: list[Attachment] | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    recipients = [to] if isinstance(to, str) else list(to)
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MAIL_FROM"]
    redirect = config.get("MAIL_REDIRECT_TO")
    if redirect:
        msg["To"] = redirect
        msg["X-Lotse-Original-To"] = ", ".join(recipients)
    else:
        msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="lotse.invalid")
    if reply_to:
        msg["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        del msg[name]  # a caller's Message-ID replaces the random one
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for att in attachments or []:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg


def send_message(msg: EmailMessage) -> None:
    """Deliver a built message; raises on SMTP failure so the caller can record it."""
    if not _sending.get():
        raise NotAnOutboxSender(
            "mail is sent only by an outbox: write a row (lotse.outbox.queue_mail) instead"
        )
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        folder = Path(current_app.instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(msg.as_bytes())
        return
    with smtplib.SMTP(
        config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(msg)


def send_mail(to: str | list[str], subject: str, text: str, **kwargs) -> EmailMessage:
    msg = build_message(to, subject, text, **kwargs)
    send_message(msg)
    return msg


def send_template(to: str | list[str], subject: str, template: str, **context) -> EmailMessage:
    """Render ``<template>.txt`` (and ``.html`` when present) and send it."""
    options = {
        key: context.pop(key) for key in ("attachments", "reply_to", "headers") if key in context
    }
    text = render_template(f"{template}.txt", **context)
    try:
        html = render_template(f"{template}.html", **context)
    except TemplateNotFound:
        html = None
    return send_mail(to, subject, text, html=html, **options)

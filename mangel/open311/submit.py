"""POST requests: a report from another system, checked like one from the web form.

The same rules apply as on the web (location inside the town, the category's questions,
photo rules, the e-mail opt-in), the same services store it and the same jobs mail the
reporter.  Trusted API keys vouch for their users: their reports are confirmed at once,
which emits ``report_confirmed`` just as a reporter's click does.  Nothing is stored
unless every check passes.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from limits import parse as parse_limit
from werkzeug.datastructures import MultiDict
from wtforms import Form

from lotse import apikeys
from lotse.extensions import csrf
from lotse.queue import enqueue
from lotse.security import within_limit
from mangel import services
from mangel.forms import question_field
from mangel.jobs import queue_report_confirmation, queue_tracking_link
from mangel.models import Category, QuestionType
from mangel.open311.apikey_models import ApiKey
from mangel.open311.format import respond
from mangel.open311.views import (
    DATATYPE_DESCRIPTIONS,
    FORMAT,
    GENERIC_ERRORS,
    Open311Error,
    arg,
    bp,
    service_or_404,
)
from mangel.photos import PhotoError, ProcessedPhoto, process_photo
from mangel.places import resolve_location

DESCRIPTION_MAX = 4000  # the spec's limit
NOTICE_CONFIRM = "The reporter has to confirm the report by e-mail before it becomes public."
NOTICE_PUBLIC = "The report is public."


def _api_key() -> ApiKey:
    """The caller's key, from the form body or the X-Api-Key header.

    A key in the URL ends up in proxy and server logs and browser histories: refused.
    """
    if "api_key" in request.args:
        raise Open311Error(
            400, "api_key belongs in the request body or the X-Api-Key header, not in the URL"
        )
    raw = request.form.get("api_key", "").strip() or request.headers.get("X-Api-Key", "").strip()
    key = apikeys.find_active(ApiKey, raw)
    if key is None:
        raise Open311Error(403, "api_key missing, unknown or revoked")
    item = parse_limit(key.rate_limit)
    if not within_limit(item, "open311-key", str(key.id)):
        raise Open311Error(429, GENERIC_ERRORS[429])
    return key


def _category(key: ApiKey) -> Category:
    code = arg("service_code")
    if code is None:
        raise Open311Error(400, "service_code missing")
    category = service_or_404(code)
    if not key.allows(category.id):
        raise Open311Error(403, f"this api_key may not report under service_code {code}")
    return category


def _location() -> tuple[float, float]:
    lat, lon, address = arg("lat"), arg("long"), arg("address_string")
    if (lat is None or lon is None) and address is None:
        raise Open311Error(400, "lat and long, or address_string, missing")
    location = resolve_location(address or "", lat or "", lon or "")
    if location.ok:
        return location.lat, location.lon
    if "address" in (location.errors or {}):
        raise Open311Error(400, "address_string not found in the town, or not unique")
    raise Open311Error(400, "lat/long not a usable point inside the town")


def _attribute_values(question) -> list[str]:
    values = request.form.getlist(f"attribute[{question.code}]") + request.form.getlist(
        f"attribute[{question.code}][]"
    )
    values = [v.strip() for v in values if v.strip()]
    if question.datatype == QuestionType.DATETIME.value:
        # Clients send W3C datetimes; the web form asks for a date: keep the date.
        values = [_date_part(v) for v in values]
    return values


def _date_part(value: str) -> str:
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return value


def _answers(category: Category) -> dict:
    """The attributes checked with the web form's own fields, keyed by question code."""
    questions = category.questions
    form_class = type("AttributeForm", (Form,), {q.code: question_field(q) for q in questions})
    data = MultiDict()
    for question in questions:
        values = _attribute_values(question)
        if question.required and not values:
            raise Open311Error(400, f"attribute[{question.code}] is required")
        if len(values) > 1 and question.datatype != QuestionType.MULTIVALUELIST.value:
            raise Open311Error(400, f"attribute[{question.code}] takes one value")
        for value in values:
            data.add(question.code, value)
    form = form_class(data)
    if not form.validate():
        question = next(q for q in questions if q.code in form.errors)
        expected = DATATYPE_DESCRIPTIONS[question.datatype].lower()
        raise Open311Error(400, f"attribute[{question.code}]: expected {expected}")
    return {q.code: form[q.code].data for q in questions if form[q.code].data not in (None, "", [])}


def _email(key: ApiKey) -> str:
    email = arg("email") or ""
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise Open311Error(400, "email is not a valid address") from None
    elif not (key.trusted or current_app.config["MANGEL_ALLOW_ANONYMOUS"]):
        raise Open311Error(400, "email missing: the reporter confirms the report by e-mail")
    return email


def _text(name: str, max_length: int, value: str | None = None) -> str:
    value = value if value is not None else arg(name) or ""
    if len(value) > max_length:
        raise Open311Error(400, f"{name} longer than {max_length} characters")
    return value


def _media() -> list[ProcessedPhoto]:
    upload = request.files.get("media")
    if upload is None or not upload.filename:
        return []
    config = current_app.config
    try:
        return [
            process_photo(
                upload.stream,
                max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
                max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
            )
        ]
    except PhotoError:
        raise Open311Error(400, "media is not a usable JPEG, PNG, WebP or HEIC photo") from None


def _media_url() -> str | None:
    url = arg("media_url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
            raise Open311Error(400, "media_url must be an http or https URL")
    return url


@bp.route(f"/requests.{FORMAT}", methods=["POST"])
@csrf.exempt
def request_create(fmt: str):
    """Create a report for a client system; answers with its service_request_id."""
    key = _api_key()
    category = _category(key)
    lat, lon = _location()
    description = _text("description", DESCRIPTION_MAX)
    answers = _answers(category)
    email = _email(key)
    name = _text("name", 120, " ".join(filter(None, [arg("first_name"), arg("last_name")])))
    phone = _text("phone", 40)
    photos, media_url = _media(), _media_url()
    if category.photo_required and not photos and media_url is None:
        raise Open311Error(400, "this service needs a photo: media or media_url")

    report, token, written = services.create_report(
        category=category,
        lat=lat,
        lon=lon,
        description=description,
        answers=answers,
        name=name,
        email=email,
        phone=phone,
        photos=photos,
    )
    report.source = "open311"
    tracking = services.confirm_report(report) if key.trusted else None
    if tracking and email:
        queue_tracking_link(report, tracking)
    elif token and not key.trusted:
        queue_report_confirmation(report, token)
    services.commit_with_photos(written)
    if media_url is not None and not photos:
        enqueue("mangel.open311.media.fetch_media", report.id, media_url)
    notice = NOTICE_PUBLIC if report.confirmed_at else NOTICE_CONFIRM
    data = [{"service_request_id": str(report.id), "service_notice": notice, "account_id": None}]
    return respond(fmt, "service_requests", data)

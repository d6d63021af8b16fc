"""No 5xx on hostile input, anywhere (issue 20).

Walks every rule of ``app.url_map`` with every method, as anonymous and as each role (admin,
clerk, booking office, caretaker, club), with hostile values in the route's variables, the
query string and the form: huge integers, NUL and other control characters, overlong text,
non-ASCII digits and letters, wrong types, impossible dates.  Any 5xx (or exception) is collected and the test
fails with the list.  One app and database per database kind (with the demo data), shared
by the module; rate limits are off and every POST carries the session's CSRF token, so that
the values reach the views.
"""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, Rule
from werkzeug.routing.converters import NumberConverter

from lotse import create_app
from lotse.extensions import db
from tests.conftest import base_config, csrf_token_from

PASSWORD = "robust genug 4711"
ROLES = ("admin", "clerk", "booking_office", "caretaker")
HUGE = "9223372036854775808"
NUL = "a\x00b"
# Three requests per rule and method: the route's variables get the first value, the query
# string or form fields the others in turn (each field sees a different kind each time).
# The first mix is mostly stopped at the edge; the others reach the views.
MIXES = {
    "nul": (NUL, [HUGE, NUL, "\x1b[2J\x7f", "-" + HUGE]),
    "huge": (HUGE, ["ü" * 2100, "²٣ 😀 ﷽", "[]{}-1.5e308", "-1"]),
    "unicode": ("ü😀²" * 700, ["1e999", "0", "", "nan", "2026-02-30", "25:61"]),
}
# Names the views read from the query string or a form, across both services.
FIELDS = [
    "page",
    "page_size",
    "per_page",
    "category",
    "status",
    "q",
    "bbox",
    "woche",
    "raum",
    "saison",
    "capacity",
    "kind",
    "je",
    "next",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "extensions",
    "lat",
    "lon",
    "long",
    "new",
    "personal",
    "department",
    "area",
    "age",
    "sort",
    "photo",
    "overdue",
    "email",
    "password",
    "name",
    "description",
    "title",
    "purpose",
    "reason",
    "club_name",
    "register_number",
    "contact_persons",
    "day",
    "start",
    "end",
    "attendees",
    "resource_id",
    "priority_class_id",
    "request_id",
    "weekday",
    "ids",
    "lang",
    "token",
    "api_key",
    "phone",
    "street",
    "ab",
    "ende",
    "angebot",
    "tag",
    "von",
    "bis",
]


def _url(app: Flask, rule: Rule, method: str, value: str) -> str:
    """The rule's path with ``value`` in every variable its converter lets through
    (the bounded ``<int:…>`` only builds digits; ``<any(…)>`` only its words)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, NumberConverter):
            values[name] = value if value.isascii() and value.isdigit() else "2147483648"
        else:
            values[name] = value
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=method, append_unknown=False)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def walked_app(request, tmp_path_factory) -> Flask:
    """One app with the demo data, a login per role and a club login."""
    folder = tmp_path_factory.mktemp(f"robust-{request.param}")
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database_factory")("robust")
    else:
        url = f"sqlite:///{folder / 'robust.sqlite3'}"
    app = create_app(
        base_config(url, RATELIMIT_ENABLED=False),
        instance_path=str(folder / "instance"),
    )
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["lotse", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from buchung.services.clubs import register_club
        from lotse.cli import create_staff_user
        from lotse.models import Department, utcnow

        departments = list(db.session.scalars(db.select(Department)))
        for role in ROLES:
            create_staff_user(f"{role}@robust.example", role, PASSWORD, [role], departments)
        member = register_club("SV Robust", "", "Rita", "Rita", "club@robust.example", PASSWORD)
        member.confirmed_at = utcnow()
        member.club.approve()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _client(app: Flask, who: str):
    """A client logged in as ``who``, and the CSRF token of its session."""
    client = app.test_client()
    if who != "anonymous":
        login = "/buchung/verein/anmelden" if who == "club" else "/anmelden"
        data = {"email": f"{who}@robust.example", "password": PASSWORD}
        data["csrf_token"] = csrf_token_from(client.get(login).get_data(as_text=True))
        response = client.post(login, data=data)
        assert response.status_code == 302, (who, response.status_code)
    # A page with a form (the start page has none, so it carries no token).
    return client, csrf_token_from(client.get("/barrierefreiheit").get_data(as_text=True))


@pytest.mark.parametrize("who", ["anonymous", *ROLES, "club"])
def test_no_5xx_for_hostile_values_anywhere(walked_app, who):
    client, token = _client(walked_app, who)
    failures = []
    rules = [r for r in walked_app.url_map.iter_rules() if r.endpoint != "static"]
    for rule in sorted(rules, key=lambda r: r.rule):
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if rule.endpoint == "auth.logout_view" and who != "anonymous":
            methods = []  # the walk goes on as this role
        for method in methods:
            for kind, (value, field_values) in MIXES.items():
                fields = {
                    name: field_values[i % len(field_values)] for i, name in enumerate(FIELDS)
                }
                try:
                    url = _url(walked_app, rule, method, value)
                    if method == "GET":
                        response = client.get(url, query_string=fields)
                    else:
                        data = {**fields, "csrf_token": token}
                        response = client.open(url, method=method, data=data)
                    status = response.status_code
                    response.close()
                except Exception as exc:  # noqa: BLE001 - every kind is a finding
                    failures.append(f"{method} {rule.rule} [{kind}]: {type(exc).__name__}: {exc}")
                    continue
                if status >= 500:
                    failures.append(f"{method} {rule.rule} [{kind}]: {status}")
    assert not failures, f"{len(failures)} server errors as {who}:\n" + "\n".join(failures)

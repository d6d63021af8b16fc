"""The OpenAPI 3.1 document of ``/api/v1/``: the one description of the API.

``tests/buchung/test_api_schema.py`` runs schemathesis against the app with it: every
documented answer must match, and no request may end in a 5xx.
"""

from __future__ import annotations

from flask import current_app

from buchung.api import bp, cached_json
from buchung.api.read import MAX_DAYS
from buchung.api.write import KEY_LIMIT


def _nullable(kind: str, **kw) -> dict:
    return {"type": [kind, "null"], **kw}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: list[str] | None = None, **kw) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **kw,
    }


STAMP = {"type": "string", "format": "date-time", "description": "Local time with offset."}
DAY = {"type": "string", "format": "date"}
SPAN = _obj({"start": STAMP, "end": STAMP})

SCHEMAS = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {
                        "type": "string",
                        "description": "Machine-readable, e.g. range_too_long, taken, closed.",
                    },
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                    "alternatives": {"type": "array", "items": _ref("Alternative")},
                },
                ["code", "status", "message"],
            )
        }
    ),
    "Alternative": _obj(
        {
            "resource_id": {"type": "integer"},
            "resource_name": {"type": "string"},
            "start": STAMP,
            "end": STAMP,
        }
    ),
    "Span": SPAN,
    "ClosedSpan": _obj({"start": STAMP, "end": STAMP, "reason": {"type": "string"}}),
    "Part": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "capacity": _nullable("integer"),
            "description": {"type": "string"},
        }
    ),
    "Resource": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["hall", "gym", "meeting_room"]},
            "description": {"type": "string"},
            "capacity": _nullable("integer"),
            "equipment": {"type": "array", "items": {"type": "string"}},
            "accessibility": {"type": "string"},
            "address": {"type": "string"},
            "location": {
                "oneOf": [
                    _obj({"lat": {"type": "number"}, "lon": {"type": "number"}}),
                    {"type": "null"},
                ]
            },
            "access": {
                "type": "string",
                "enum": ["public", "clubs", "staff"],
                "description": "Who may book: everybody, clubs (and partners), only the office.",
            },
            "bookable_online": {"type": "boolean"},
            "needs_approval": {
                "type": "boolean",
                "description": "Requests wait for the booking office (status requested).",
            },
            "rules": _obj(
                {
                    "grid_minutes": {"type": "integer"},
                    "min_minutes": {"type": "integer"},
                    "max_minutes": {"type": "integer"},
                    "horizon_days": {"type": "integer"},
                }
            ),
            "fees": {
                "type": "array",
                "description": "The tariffs of the Gebührensatzung in force today (a part "
                "without its own uses its hall's), per customer group; amounts in cents "
                "before surcharges and reductions.",
                "items": _obj(
                    {
                        "group": {"type": "string"},
                        "group_name": {"type": "string"},
                        "unit": {"type": "string", "enum": ["hour", "use"]},
                        "amount_cents": {"type": "integer", "minimum": 0},
                    }
                ),
            },
            "opening_hours": {
                "type": "array",
                "items": _obj(
                    {
                        "weekday": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 6,
                            "description": "Monday = 0",
                        },
                        "opens": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                        "closes": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                    }
                ),
            },
            "opening_hours_text": {
                "type": "string",
                "description": "The opening hours in words, in the request's language.",
            },
            "parts": {"type": "array", "items": _ref("Part")},
            "links": _obj(
                {
                    name: {"type": "string", "format": "uri"}
                    for name in ("self", "availability", "plan", "web", "calendar")
                }
            ),
        }
    ),
    "ResourceList": _obj({"resources": {"type": "array", "items": _ref("Resource")}}),
    "Unit": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "whole": {
                "type": "boolean",
                "description": "The whole hall: free only where every part is free.",
            },
            "free": {"type": "array", "items": _ref("Span")},
            "busy": {"type": "array", "items": _ref("Span")},
            "closed": {"type": "array", "items": _ref("ClosedSpan")},
        }
    ),
    "Availability": _obj(
        {
            "resource_id": {"type": "integer"},
            "from": DAY,
            "to": DAY,
            "timezone": {"type": "string"},
            "units": {"type": "array", "items": _ref("Unit")},
        }
    ),
    "PlanEntry": _obj(
        {
            "resource_id": {"type": "integer"},
            "hall_id": {"type": "integer"},
            "resource_name": {"type": "string"},
            "start": STAMP,
            "end": STAMP,
            "kind": {"type": "string", "enum": ["booking", "closure"]},
            "label": {
                "type": "string",
                "description": "'belegt', or the club's name where the town and the club "
                "agreed; never a person's name or contact.",
            },
            "tentative": {"type": "boolean"},
        }
    ),
    "Plan": _obj(
        {
            "from": DAY,
            "to": DAY,
            "timezone": {"type": "string"},
            "entries": {"type": "array", "items": _ref("PlanEntry")},
        }
    ),
    "Contact": _obj(
        {
            "name": {"type": "string", "maxLength": 120},
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 40},
        },
        [],
        additionalProperties=False,
    ),
    "BookingRequest": _obj(
        {
            "resource_id": {"type": "integer", "minimum": 1},
            "start": {**STAMP, "description": "With offset, or local wall-clock time without."},
            "end": STAMP,
            "purpose": {"type": "string", "minLength": 1, "maxLength": 200},
            "attendees": _nullable("integer", minimum=1),
            "contact": {
                **_ref("Contact"),
                "description": "Who the request is for; mails go to this address, else "
                "to the key's.",
            },
        },
        ["resource_id", "start", "end", "purpose"],
        additionalProperties=False,
    ),
    "Booking": _obj(
        {
            "id": {"type": "integer"},
            "resource_id": {"type": "integer"},
            "hall_id": {"type": "integer"},
            "resource_name": {"type": "string"},
            "start": STAMP,
            "end": STAMP,
            "status": {
                "type": "string",
                "enum": ["held", "requested", "confirmed", "declined", "cancelled", "expired"],
            },
            "status_text": {"type": "string"},
            "purpose": {"type": "string"},
            "attendees": _nullable("integer"),
            "contact": _obj(
                {
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "phone": {"type": "string"},
                }
            ),
            "reason": {"type": "string", "description": "Why declined or cancelled."},
            "created_at": STAMP,
            "links": _obj(
                {
                    "self": {"type": "string", "format": "uri"},
                    "web": {"type": "string", "format": "uri"},
                }
            ),
        }
    ),
    "BookingList": _obj(
        {"from": DAY, "to": DAY, "bookings": {"type": "array", "items": _ref("Booking")}}
    ),
}


def _json(schema: str, description: str, headers: bool = False) -> dict:
    answer = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if headers:
        answer["headers"] = {
            "ETag": {"schema": {"type": "string"}},
            "Cache-Control": {"schema": {"type": "string"}},
            "Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}},
        }
    return answer


def _error(description: str) -> dict:
    return _json("Error", description)


NOT_MODIFIED = {"description": "Not modified (the ETag of If-None-Match still holds)."}
RANGE_PARAMETERS = [
    {
        "name": "from",
        "in": "query",
        "description": "First local day (default: today).",
        "schema": DAY,
    },
    {
        "name": "to",
        "in": "query",
        "description": f"Last local day, inclusive (default: a week); at most {MAX_DAYS} days.",
        "schema": DAY,
    },
]
RESOURCE_ID = {
    "name": "resource_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
BOOKING_ID = {
    "name": "booking_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
KEYED = [{"bearer": []}, {"header": []}]
KEY_ERRORS = {
    "401": _error("No key, or an unknown or revoked one."),
    "429": _error(f"More than {KEY_LIMIT} for this key."),
}


def document() -> dict:
    """The OpenAPI 3.1 document, with this town's server address."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    found = _document(base)
    for operations in found["paths"].values():
        for operation in operations.values():
            operation["responses"].setdefault(
                "400", _error("A malformed request (control characters, a bad parameter).")
            )
    return found


def _document(base: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lotse Buchung API",
            "version": "1.0.0",
            "description": (
                "Halls and rooms of the town, their free and busy times and the public "
                "occupancy plan, read without a key (JSON, ETag, CORS). Partner systems "
                "request bookings with an API key from the booking office, scoped to halls. "
                "Times are local (Europe/Berlin) with their offset. Errors: "
                '{"error": {"code", "status", "message"}}.'
            ),
        },
        "servers": [{"url": f"{base}/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The API key."},
                "header": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
        "paths": {
            "/resources": {
                "get": {
                    "operationId": "listResources",
                    "summary": "Halls and rooms with parts, rules and opening hours",
                    "responses": {
                        "200": _json("ResourceList", "Every active hall and room.", True),
                        "304": NOT_MODIFIED,
                    },
                }
            },
            "/resources/{resource_id}": {
                "get": {
                    "operationId": "getResource",
                    "summary": "One hall or room",
                    "parameters": [RESOURCE_ID],
                    "responses": {
                        "200": _json("Resource", "The hall or room.", True),
                        "304": NOT_MODIFIED,
                        "404": _error("No such (active, top-level) hall or room."),
                    },
                }
            },
            "/resources/{resource_id}/availability": {
                "get": {
                    "operationId": "getAvailability",
                    "summary": "Free, busy and closed times of a hall and each part",
                    "description": "Free: open (opening hours), not closed (closures, public "
                    "holidays), not busy, not past. A booking of the whole hall makes every "
                    "part busy; the whole hall is free only where every part is.",
                    "parameters": [RESOURCE_ID, *RANGE_PARAMETERS],
                    "responses": {
                        "200": _json("Availability", "Per unit: free, busy, closed.", True),
                        "304": NOT_MODIFIED,
                        "400": _error("A bad date or range (invalid_date, range_too_long …)."),
                        "404": _error("No such hall or room."),
                    },
                }
            },
            "/plan": {
                "get": {
                    "operationId": "getPlan",
                    "summary": "The public occupancy plan (Belegungsplan)",
                    "parameters": [
                        {
                            "name": "resource_id",
                            "in": "query",
                            "description": "One hall or room (default: all).",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        *RANGE_PARAMETERS,
                    ],
                    "responses": {
                        "200": _json("Plan", "Busy blocks with their public label.", True),
                        "304": NOT_MODIFIED,
                        "400": _error("A bad date, range or resource_id."),
                        "404": _error("No such hall or room."),
                    },
                }
            },
            "/bookings": {
                "get": {
                    "operationId": "listBookings",
                    "summary": "The key's own bookings starting in a range",
                    "security": KEYED,
                    "parameters": [
                        {**RANGE_PARAMETERS[0]},
                        {**RANGE_PARAMETERS[1], "description": "Last day (default: 92 days)."},
                    ],
                    "responses": {
                        "200": _json("BookingList", "The bookings, by start."),
                        "400": _error("A bad date or range."),
                        **KEY_ERRORS,
                    },
                },
                "post": {
                    "operationId": "requestBooking",
                    "summary": "Request a booking",
                    "description": "Checked like the web form. Status 'requested' where the "
                    "booking office approves the hall's bookings (it gets a mail), else "
                    "'confirmed'. The contact (or the key's address) gets the mails.",
                    "security": KEYED,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("BookingRequest")}},
                    },
                    "responses": {
                        "201": _json("Booking", "Requested or confirmed."),
                        "400": _error("Not a JSON object."),
                        "403": _error("The key may not book this hall (resource_not_allowed)."),
                        "404": _error("No such hall or room."),
                        "409": _error(
                            "Taken (which part when, code taken) or closed (code closed); "
                            "alternatives: the next free times of this and the sibling parts."
                        ),
                        "415": _error("The body is not application/json."),
                        "422": _error("Invalid fields or broken booking rules (in details)."),
                        **KEY_ERRORS,
                    },
                },
            },
            "/bookings/{booking_id}": {
                "get": {
                    "operationId": "getBooking",
                    "summary": "One of the key's bookings",
                    "security": KEYED,
                    "parameters": [BOOKING_ID],
                    "responses": {
                        "200": _json("Booking", "The booking with its current status."),
                        "404": _error("Not a booking of this key."),
                        **KEY_ERRORS,
                    },
                },
                "delete": {
                    "operationId": "cancelBooking",
                    "summary": "Withdraw a request or cancel a booking",
                    "security": KEYED,
                    "parameters": [BOOKING_ID],
                    "responses": {
                        "200": _json("Booking", "Cancelled (also when it was already)."),
                        "404": _error("Not a booking of this key."),
                        "409": _error("Past the online cancellation deadline (too_late)."),
                        **KEY_ERRORS,
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "304": NOT_MODIFIED,
                    },
                }
            },
        },
    }


@bp.route("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    return cached_json(document(), max_age=3600)

"""The OpenAPI 3.1 description of the JSON API and Open311, served at /api/v1/openapi.json.

Written once, here, in Python. tests/open311/test_openapi.py keeps it true: every /api/ and
/open311/ route of the app must be described and every described path must exist, and the
fuzz tests (schemathesis) check real answers against it.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from feedback import validation
from feedback.models import Kind, Rating, Status
from feedback.settings import InputLimits
from web.keys import service_key

routes = web.RouteTableDef()

JSON = "application/json"
XML = "text/xml"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


STRING = {"type": "string"}
NSTRING = _nullable("string")
DATETIME = {"type": "string", "format": "date-time"}
NDATETIME = _nullable("string", format="date-time")

RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field", "errors"],
                "properties": {
                    "code": {
                        **STRING,
                        "description": "machine-readable: invalid, not_found, forbidden, rate_limited, too_large…",
                    },
                    "message": {**STRING, "description": "the message to show, in Chinese"},
                    "field": {**NSTRING, "description": "the input field at fault, if any"},
                    "errors": {
                        "type": "array",
                        "description": "every field at fault, all found in one check "
                        "(the first is field and message); empty when no field is at fault",
                        "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "properties": {
                                "field": {**NSTRING, "description": "e.g. text, contact.phone"},
                                "message": {**STRING, "description": "in Chinese"},
                            },
                        },
                    },
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "schema_version"],
        "properties": {"status": {"const": "ok"}, "schema_version": {"type": "integer"}},
    },
    "Submitted": {
        "type": "object",
        "required": ["tracking_number", "follow_up_code", "status", "department", "status_url"],
        "properties": {
            "tracking_number": {**STRING, "examples": ["ZC-2026-000001"]},
            "follow_up_code": {**STRING, "description": "shown once; needed to follow up"},
            "status": {"enum": [s.value for s in Status]},
            "department": NSTRING,
            "status_url": STRING,
        },
    },
    "CitizenStatus": {
        "type": "object",
        "required": ["tracking_number", "status", "status_label", "history", "deadlines"],
        "properties": {
            "tracking_number": STRING,
            "status": {"enum": [s.value for s in Status]},
            "status_label": STRING,
            "title": STRING,
            "department": NSTRING,
            "department_name": NSTRING,
            "issue_types": {"type": "array", "items": STRING},
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "deadlines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "label", "due", "working_days_left", "overdue"],
                    "properties": {
                        "name": STRING,
                        "label": STRING,
                        "due": DATETIME,
                        "working_days_left": {"type": "integer"},
                        "overdue": {"type": "boolean"},
                        "estimated": {
                            "type": "boolean",
                            "description": "the due day lies in a year whose official holiday "
                            "schedule is not loaded: counted Monday-Friday",
                        },
                    },
                },
            },
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "action", "label"],
                    "properties": {
                        "at": DATETIME,
                        "action": STRING,
                        "label": STRING,
                        "note": NSTRING,
                    },
                },
            },
            "answer": NSTRING,
            "answered_at": NDATETIME,
            "rating": {"enum": [*(r.value for r in Rating), None]},
            "close_reason": NSTRING,
            "can_rate": {"type": "boolean"},
            "can_request_review": {"type": "boolean"},
            "points": {"type": "integer"},
        },
    },
    # -- Open311 GeoReport v2 --
    "O311Errors": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": STRING},
        },
    },
    "O311Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": DATETIME,
            "contact": STRING,
            "key_service": STRING,
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "changeset", "type", "formats"],
                    "properties": {
                        "specification": STRING,
                        "url": STRING,
                        "changeset": DATETIME,
                        "type": {"enum": ["production", "test"]},
                        "formats": {"type": "array", "items": STRING},
                    },
                },
            },
        },
    },
    "O311Service": {
        "type": "object",
        "required": [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "properties": {
            "service_code": {**STRING, "description": "the department's code"},
            "service_name": STRING,
            "description": {**STRING, "description": "the department's remit"},
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": STRING,
            "group": STRING,
        },
    },
    "O311ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": STRING,
            "attributes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "variable",
                        "code",
                        "datatype",
                        "required",
                        "datatype_description",
                        "order",
                        "description",
                    ],
                    "properties": {
                        "variable": {"type": "boolean"},
                        "code": STRING,
                        "datatype": {
                            "enum": [
                                "string",
                                "number",
                                "datetime",
                                "text",
                                "singlevaluelist",
                                "multivaluelist",
                            ]
                        },
                        "required": {"type": "boolean"},
                        "datatype_description": STRING,
                        "order": {"type": "integer"},
                        "description": STRING,
                        "values": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "name"],
                                "properties": {"key": STRING, "name": STRING},
                            },
                        },
                    },
                },
            },
        },
    },
    "O311Request": {
        "type": "object",
        "description": "Public-safe: no text, contact, address or answer.",
        "required": [
            "service_request_id",
            "status",
            "status_notes",
            "service_code",
            "agency_responsible",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
        ],
        "properties": {
            "service_request_id": STRING,
            "status": {"enum": ["open", "closed"]},
            "status_notes": STRING,
            "service_name": STRING,
            "service_code": STRING,
            "description": {"type": "null"},
            "agency_responsible": STRING,
            "service_notice": NSTRING,
            "requested_datetime": DATETIME,
            "updated_datetime": DATETIME,
            "expected_datetime": NDATETIME,
            "address": {"type": "null"},
            "address_id": {"type": "null"},
            "zipcode": {"type": "null"},
            "lat": {"type": "null"},
            "long": {"type": "null"},
            "media_url": {"type": "null"},
            "status_label": {**STRING, "description": "extension: the status in Chinese"},
        },
    },
    "O311Requests": {"type": "array", "items": _ref("O311Request")},
    "O311Update": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {
            "update_id": STRING,
            "service_request_id": STRING,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "updated_datetime": DATETIME,
            "description": STRING,
            "media_url": STRING,
        },
    },
    "O311Updates": {"type": "array", "items": _ref("O311Update")},
    "O311Posted": {
        "type": "array",
        "minItems": 1,
        "maxItems": 1,
        "items": {
            "type": "object",
            "required": ["service_request_id", "service_notice", "account_id", "follow_up_code"],
            "properties": {
                "service_request_id": STRING,
                "service_notice": STRING,
                "account_id": NSTRING,
                "follow_up_code": {**STRING, "description": "extension: give it to the citizen"},
            },
        },
    },
    "O311NewRequest": {
        "type": "object",
        "required": ["api_key", "service_code", "description"],
        "properties": {
            "api_key": {**STRING, "description": "from `feedback keys add NAME`"},
            "service_code": {
                **STRING,
                "description": "a department code from services; a hint, routing decides",
            },
            "description": {
                **STRING,
                "minLength": validation.TEXT_MIN,
                "maxLength": validation.Open311Input.text_cap,
            },
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": STRING,
            "address_id": STRING,
            "email": {**STRING, "description": "accepted, not stored"},
            "device_id": STRING,
            "account_id": STRING,
            "first_name": STRING,
            "last_name": STRING,
            "phone": STRING,
            "media_url": {
                **STRING,
                "format": "uri",
                "description": "an http(s) link to a photo, downloaded and checked as an "
                "attachment (repeat the field for several); one that cannot be kept is "
                "noted, the report is kept",
            },
            "attribute[title]": STRING,
            "attribute[kind]": {"enum": [k.value for k in Kind]},
            "attribute[issue_type]": {"type": "array", "items": STRING},
            "attribute[authority]": STRING,
            "attribute[occurred_at]": STRING,
        },
    },
}


def _json(schema: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref(schema)}}}
    if headers:
        out["headers"] = headers
    return out


def _api_error(description: str, *, retry: bool = False) -> dict[str, Any]:
    return _json("Error", description, RETRY_AFTER if retry else None)


def _o311(schema: str, fmt: str, description: str, *, retry: bool = False) -> dict[str, Any]:
    content = (
        {JSON: {"schema": _ref(schema)}}
        if fmt == "json"
        else {XML: {"schema": {"type": "string", "description": "the same, as the standard's XML"}}}
    )
    out: dict[str, Any] = {"description": description, "content": content}
    if retry:
        out["headers"] = RETRY_AFTER
    return out


def _api_paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness and schema version",
                "operationId": "healthz",
                "responses": {"200": _json("Health", "the service is up")},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}
                },
            }
        },
        "/api/v1/reports": {
            "post": {
                "summary": "Hand in a report (anyone; limited per address, or per key with X-Api-Key)",
                "operationId": "createReport",
                "parameters": [
                    {
                        "name": "X-Api-Key",
                        "in": "header",
                        "required": False,
                        "description": "a machine client's key: its own rate limit replaces the per-address one",
                        "schema": STRING,
                    }
                ],
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("NewReport")}}},
                "responses": {
                    "201": _json("Submitted", "accepted and committed"),
                    "400": _api_error("invalid input; error.field names it"),
                    "403": _api_error("the X-Api-Key is unknown or revoked"),
                    "413": _api_error("the body is too large"),
                    "429": _api_error("too many reports from this address (or key)", retry=True),
                },
            }
        },
        "/api/v1/reports/{tracking_number}": {
            "get": {
                "summary": "A citizen's view of their report (needs the follow-up code)",
                "operationId": "getReport",
                "parameters": [
                    {"name": "tracking_number", "in": "path", "required": True, "schema": STRING},
                    {"name": "code", "in": "query", "required": False, "schema": STRING,
                     "description": "the follow-up code (or the X-Follow-Up-Code header)"},
                    {"name": "X-Follow-Up-Code", "in": "header", "required": False, "schema": STRING},
                ],
                "responses": {
                    "200": _json("CitizenStatus", "the report as the citizen sees it"),
                    "404": _api_error("no such report, or the code is wrong (never told apart)"),
                    "429": _api_error("too many wrong codes from this address or for this report", retry=True),
                },
            }
        },
    }  # fmt: skip


def _open311_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for fmt in ("json", "xml"):
        p = "/open311/v2"
        tag = ["Open311 GeoReport v2"]
        paths[f"{p}/discovery.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Discovery_{fmt}",
                "responses": {"200": _o311("O311Discovery", fmt, "where and how to call")},
            }
        }
        paths[f"{p}/services.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Services_{fmt}",
                "description": "One service per department (its remit and keywords).",
                "responses": {
                    "200": _o311("O311Service", fmt, "the services")
                    | {"content": _list_content("O311Service", fmt)}
                },
            }
        }
        paths[f"{p}/services/{{service_code}}.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Service_{fmt}",
                "parameters": [
                    {"name": "service_code", "in": "path", "required": True, "schema": STRING}
                ],
                "responses": {
                    "200": _o311("O311ServiceDefinition", fmt, "the service's attributes"),
                    "404": _o311("O311Errors", fmt, "no such service"),
                },
            }
        }
        paths[f"{p}/requests.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Requests_{fmt}",
                "description": "Public-safe list, newest first, at most 1,000; the last 90 days unless dates are given.",
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "query",
                        "schema": STRING,
                        "description": "comma-separated ids; every other filter is then ignored",
                    },
                    {
                        "name": "service_code",
                        "in": "query",
                        "schema": STRING,
                        "description": "one code or a comma-separated list",
                    },
                    {
                        "name": "api_key",
                        "in": "query",
                        "schema": STRING,
                        "description": "the client's own key: only the requests it handed in, "
                        "whichever bureau took them (see agency_responsible); 403 if unknown",
                    },
                    {"name": "start_date", "in": "query", "schema": DATETIME},
                    {"name": "end_date", "in": "query", "schema": DATETIME},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": STRING,
                        "description": "open, closed or open,closed",
                    },
                ],
                "responses": {
                    "200": _o311("O311Requests", fmt, "the requests"),
                    "403": _o311("O311Errors", fmt, "api_key unknown or revoked"),
                    "400": _o311("O311Errors", fmt, "a filter is malformed"),
                    "404": _o311("O311Errors", fmt, "no such service_code"),
                },
            },
            "post": {
                "tags": tag,
                "operationId": f"open311Post_{fmt}",
                "description": (
                    "Hand in a report with an API key. service_code is recorded as the stated "
                    "authority; routing decides the department. Files may be sent as file "
                    "parts of a multipart body under any name (`media`, or `photo1`, `photo2`… "
                    "as FixMyStreet sends them), checked by content like the web form's. "
                    f"The body is described as {MULTIPART} only (one content type, so client "
                    f"generators produce working code), and {FORM} is accepted as well, as the "
                    "GeoReport v2 standard requires; a JSON body is refused (400)."
                ),
                "requestBody": {
                    "required": True,
                    "content": {MULTIPART: {"schema": _ref("O311NewRequest")}},
                },
                "responses": {
                    "200": _o311(
                        "O311Posted", fmt, "accepted; service_request_id is the tracking number"
                    ),
                    "400": _o311("O311Errors", fmt, "invalid input"),
                    "403": _o311("O311Errors", fmt, "api_key missing, unknown or revoked"),
                    "413": _o311("O311Errors", fmt, "the body is too large"),
                    "429": _o311("O311Errors", fmt, "the key's rate limit is reached", retry=True),
                },
            },
        }
        paths[f"{p}/requests/{{service_request_id}}.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Request_{fmt}",
                "parameters": [
                    {"name": "service_request_id", "in": "path", "required": True, "schema": STRING}
                ],
                "responses": {
                    "200": _o311("O311Requests", fmt, "the request, with status_notes"),
                    "404": _o311("O311Errors", fmt, "no such request"),
                },
            }
        }
        paths[f"{p}/servicerequestupdates.{fmt}"] = {
            "get": {
                "tags": tag,
                "operationId": f"open311Updates_{fmt}",
                "description": (
                    "mySociety's extension (read by FixMyStreet): the public events of every "
                    "request (签收, 答复, 办结, …; the citizen's timeline) between start_date and "
                    "end_date, oldest first, at most 1,000; the last day unless dates are given, "
                    "at most 90 days at once."
                ),
                "parameters": [
                    {"name": "start_date", "in": "query", "schema": DATETIME},
                    {"name": "end_date", "in": "query", "schema": DATETIME},
                    {
                        "name": "api_key",
                        "in": "query",
                        "schema": STRING,
                        "description": "accepted and not needed: the updates are public",
                    },
                ],
                "responses": {
                    "200": _o311("O311Updates", fmt, "the updates"),
                    "400": _o311("O311Errors", fmt, "a date is malformed"),
                },
            }
        }
    return paths  # fmt: skip


def _list_content(item: str, fmt: str) -> dict[str, Any]:
    if fmt == "json":
        return {JSON: {"schema": {"type": "array", "items": _ref(item)}}}
    return {XML: {"schema": {"type": "string"}}}


def model_schemas() -> dict[str, Any]:
    """The request bodies generated from the input models themselves (feedback.validation):
    what the document promises is what the service checks."""
    schema = validation.SubmitInput.model_json_schema(ref_template="#/components/schemas/{model}")
    out: dict[str, Any] = schema.pop("$defs", {})
    schema["description"] = (
        "Unknown properties are ignored. A report is anonymous unless it says otherwise."
    )
    out["NewReport"] = schema
    return out


def document(limits: InputLimits | None = None) -> dict[str, Any]:
    """The OpenAPI document; ``limits`` are the running app's (its settings)."""
    schemas = {**copy.deepcopy(SCHEMAS), **model_schemas()}
    if limits is not None:
        schemas["NewReport"]["properties"]["text"]["maxLength"] = validation.text_max(limits)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "feedback — 行政执法社会监督诉求受理",
            "version": "1",
            "description": (
                "The JSON API for citizens' reports and Open311 GeoReport v2 for other systems "
                "(a 12345 hotline, a city's app). Errors under /api are "
                '{"error": {code, message, field, errors}} (errors: every field at fault, found in one check); under /open311 the standard\'s errors list. '
                "Rate limits answer 429 with Retry-After."
            ),
        },
        "paths": {**_api_paths(), **_open311_paths()},
        "components": {"schemas": schemas},
    }


@routes.get("/api/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app[service_key].input_limits))

"""The OpenAPI 3.1 description of the JSON API and Open311, served at /api/v1/openapi.json.

The paths are written here; every schema is generated from the models (web.api_models for the
answers, feedback.validation for the JSON body) except Open311's form body (FORM_SCHEMAS). tests/open311/test_openapi.py keeps it true: every /api/ and
/open311/ route of the app must be described and every described path must exist, and the
fuzz tests (schemathesis) check real answers against it.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from feedback import validation
from feedback.models import Kind
from feedback.settings import InputLimits
from web import api_models
from web.keys import service_key

routes = web.RouteTableDef()

JSON = "application/json"
XML = "text/xml"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


STRING = {"type": "string"}
DATETIME = {"type": "string", "format": "date-time"}

RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

# The one request body not yet declared as a model: Open311's form, whose field names
# (attribute[kind]…) are the standard's; post_request reads it into validation.Open311Input.
FORM_SCHEMAS: dict[str, Any] = {
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
                "responses": {"200": _o311("O311Services", fmt, "the services")},
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


def model_schemas() -> dict[str, Any]:
    """The answers generated from the output models the handlers send (web.api_models), and
    the JSON request body from the input model the service checks (feedback.validation): what
    the document promises is what is sent and what is checked."""
    schema = validation.SubmitInput.model_json_schema(ref_template="#/components/schemas/{model}")
    out: dict[str, Any] = api_models.schemas()
    for name, found in schema.pop("$defs", {}).items():
        # A name both sides use (an enum such as Kind) must mean one thing.
        if name in out and out[name] != found:
            raise ValueError(f"schema {name} differs between input and output models")
        out[name] = found
    schema["description"] = (
        "Unknown properties are ignored. A report is anonymous unless it says otherwise."
    )
    out["NewReport"] = schema
    return out


def document(limits: InputLimits | None = None) -> dict[str, Any]:
    """The OpenAPI document; ``limits`` are the running app's (its settings)."""
    schemas = {**copy.deepcopy(FORM_SCHEMAS), **model_schemas()}
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

"""The answers of the JSON API and Open311, declared once as pydantic models.

The handlers (web/api.py, web/open311.py, web/errors.py) build these and send
``model_dump(mode="json")``; web/openapi.py generates the document's components from the same
classes (``schemas()``), so what the document promises is what is sent. Field order is the
wire order (Open311's XML follows it). The class names are the schema names that clients
generated from the document know (``Submitted``, ``CitizenStatus``…): renaming one is an API
change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, RootModel, WithJsonSchema, model_serializer
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema

from feedback.models import CloseReason, Rating, Status


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


# A time as sent: ISO 8601 to the second with its offset (+08:00); the handler puts it in the
# district's zone first.
Time = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# -- the JSON API (/api/v1, /healthz) ---------------------------------------------------------


class FieldError(BaseModel):
    field: str | None = Field(description="e.g. text, contact.phone")
    message: str = Field(description="in Chinese")


class ErrorBody(BaseModel):
    code: str = Field(
        description="machine-readable: invalid, not_found, forbidden, rate_limited, too_large…"
    )
    message: str = Field(description="the message to show, in Chinese")
    field: str | None = Field(description="the input field at fault, if any")
    errors: list[FieldError] = Field(
        description="every field at fault, all found in one check (the first is field and "
        "message); empty when no field is at fault"
    )


class Error(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    schema_version: int


class Submitted(BaseModel):
    tracking_number: str = Field(examples=["ZC-2026-000001"])
    follow_up_code: str = Field(description="shown once; needed to follow up")
    status: Status
    department: str | None
    status_url: str


class Deadline(BaseModel):
    name: str
    label: str
    due: Time
    working_days_left: int
    overdue: bool
    estimated: bool = Field(
        description="the due day lies in a year whose official holiday schedule is not "
        "loaded: counted Monday-Friday"
    )


class HistoryEntry(BaseModel):
    at: Time
    action: str
    label: str
    note: str | None


class CitizenStatus(BaseModel):
    tracking_number: str
    status: Status
    status_label: str
    title: str
    department: str | None
    department_name: str | None
    issue_types: list[str]
    created_at: Time
    updated_at: Time
    deadlines: list[Deadline]
    history: list[HistoryEntry]
    answer: str | None
    answered_at: Time | None
    rating: Rating | None
    close_reason: CloseReason | None
    can_rate: bool
    can_request_review: bool
    points: int


# -- Open311 GeoReport v2 -----------------------------------------------------------------------


class O311Error(BaseModel):
    code: int
    description: str


class O311Errors(RootModel[Annotated[list[O311Error], Field(min_length=1)]]):
    pass


class O311Endpoint(BaseModel):
    specification: str
    url: str
    changeset: Time
    type: Literal["production", "test"]
    formats: list[str]


class O311Discovery(BaseModel):
    changeset: Time
    contact: str
    key_service: str
    endpoints: list[O311Endpoint]


class O311Service(BaseModel):
    service_code: str = Field(description="the department's code")
    service_name: str
    description: str = Field(description="the department's remit")
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class O311Services(RootModel[list[O311Service]]):
    pass


class O311AttributeValue(BaseModel):
    key: str
    name: str


class O311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[O311AttributeValue] | None = Field(
        default=None, description="only for the list datatypes"
    )

    @model_serializer(mode="wrap")
    def _values_only_for_lists(
        self, handler: core_schema.SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        # The standard's attributes carry <values> only when there are values to choose from.
        out: dict[str, Any] = handler(self)
        if self.values is None:
            out.pop("values", None)
        return out


class O311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[O311Attribute]


class O311Request(BaseModel):
    """Public-safe: no text, contact, address or answer."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: None
    agency_responsible: str
    service_notice: str | None
    requested_datetime: Time
    updated_datetime: Time
    expected_datetime: Time | None
    address: None
    address_id: None
    zipcode: None
    lat: None
    long: None
    media_url: None
    status_label: str = Field(description="extension: the status in Chinese")


class O311Requests(RootModel[list[O311Request]]):
    pass


class O311Update(BaseModel):
    update_id: str
    service_request_id: str
    status: Literal["open", "closed"]
    updated_datetime: Time
    description: str
    media_url: str


class O311Updates(RootModel[list[O311Update]]):
    pass


class O311PostedRequest(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None
    follow_up_code: str = Field(description="extension: give it to the citizen")


class O311Posted(RootModel[Annotated[list[O311PostedRequest], Field(min_length=1, max_length=1)]]):
    pass


# Every answer the document describes, by its schema name (the class name).
RESPONSES: tuple[type[BaseModel], ...] = (
    Error,
    Health,
    Submitted,
    CitizenStatus,
    O311Errors,
    O311Discovery,
    O311Services,
    O311ServiceDefinition,
    O311Requests,
    O311Updates,
    O311Posted,
)

REF_TEMPLATE = "#/components/schemas/{model}"


class _NoFieldTitles(GenerateJsonSchema):
    """No generated "title" on each property: client generators (openapi-python-client) name
    inline enums by their title, and two fields called ``status`` would then be one class."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schemas() -> dict[str, Any]:
    """The components/schemas for every answer, nested models included, $refs resolved there."""
    _, top = models_json_schema(
        [(m, "validation") for m in RESPONSES],
        ref_template=REF_TEMPLATE,
        schema_generator=_NoFieldTitles,
    )
    found: dict[str, Any] = top.get("$defs", {})
    return found


def dump(model: BaseModel) -> Any:
    """What goes on the wire: JSON types, in field order."""
    return model.model_dump(mode="json")

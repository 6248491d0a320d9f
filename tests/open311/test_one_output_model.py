"""One output model for every answer (issue 15): the JSON API and Open311 send what
web.api_models declares, and the OpenAPI document's schemas are generated from those models,
so the document cannot say one thing while the handlers send another."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from tests.open311.conftest import new_key
from web import api_models

V2 = "/open311/v2"
TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"
MODELS = {m.__name__: m for m in api_models.RESPONSES}


def _response_schemas(doc: dict[str, Any]) -> set[str]:
    """The schema name of every JSON answer of every operation."""
    names = set()
    for ops in doc["paths"].values():
        for op in ops.values():
            for answer in op["responses"].values():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if ref := schema.get("$ref"):
                    names.add(ref.rsplit("/", 1)[-1])
    return names


async def test_every_answer_in_the_document_is_a_model_the_handlers_send(
    client: TestClient,
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    described = _response_schemas(doc) - {"object"}
    assert described, "no JSON answers described"
    assert described <= set(MODELS), f"hand-written answer schemas: {described - set(MODELS)}"
    generated = api_models.schemas()
    for name in described:
        assert doc["components"]["schemas"][name] == generated[name], name


def _same_through(model: type[BaseModel], body: Any) -> None:
    # Read back through the model and sent again: a field the model does not declare would be
    # dropped, one it declares and the answer lacks would fail, a type that differs would change.
    assert api_models.dump(model.model_validate(body)) == body


async def test_what_a_client_reads_is_exactly_what_the_models_declare(client: TestClient) -> None:
    resp = await client.post("/api/v1/reports", json={"title": "收缴不开单据", "text": TEXT})
    assert resp.status == 201
    submitted = await resp.json()
    _same_through(api_models.Submitted, submitted)
    tn, code = submitted["tracking_number"], submitted["follow_up_code"]
    view = await (await client.get(f"/api/v1/reports/{tn}", params={"code": code})).json()
    _same_through(api_models.CitizenStatus, view)
    assert view["history"] and view["deadlines"]
    wrong = await client.get(f"/api/v1/reports/{tn}", params={"code": "WRONG"})
    assert wrong.status == 404
    _same_through(api_models.Error, await wrong.json())
    _same_through(api_models.Health, await (await client.get("/healthz")).json())

    key = await new_key(client)
    form = {"api_key": key, "service_code": "zhzf", "description": TEXT, "first_name": "明"}
    posted = await (await client.post(f"{V2}/requests.json", data=form)).json()
    _same_through(api_models.O311Posted, posted)
    now = datetime.fromisoformat(view["created_at"])  # the test's clock
    window = {"start_date": (now - timedelta(hours=1)).isoformat(),
              "end_date": (now + timedelta(minutes=1)).isoformat()}  # fmt: skip
    for path, model, params in [
        ("discovery", api_models.O311Discovery, {}),
        ("services", api_models.O311Services, {}),
        ("services/zhzf", api_models.O311ServiceDefinition, {}),
        ("requests", api_models.O311Requests, {}),
        (f"requests/{tn}", api_models.O311Requests, {}),
        ("servicerequestupdates", api_models.O311Updates, window),
        ("services/nope", api_models.O311Errors, {}),
    ]:
        body = await (await client.get(f"{V2}/{path}.json", params=params)).json()
        assert body, path
        _same_through(model, body)


async def test_the_open311_xml_carries_the_model_fields_in_their_order(
    client: TestClient,
) -> None:
    resp = await client.post("/api/v1/reports", json={"title": "收缴不开单据", "text": TEXT})
    tn = (await resp.json())["tracking_number"]
    root = ET.fromstring(await (await client.get(f"{V2}/requests/{tn}.xml")).text())
    [request] = list(root)
    assert [el.tag for el in request] == list(api_models.O311Request.model_fields)
    root = ET.fromstring(await (await client.get(f"{V2}/services/zhzf.xml")).text())
    attributes = root.find("attributes")
    assert attributes is not None
    # <values> only where there is a list to choose from, as the standard's clients expect.
    with_values = [a.findtext("code") for a in attributes if a.find("values") is not None]
    assert with_values == ["kind", "issue_type"]

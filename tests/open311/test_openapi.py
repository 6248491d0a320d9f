"""The OpenAPI document stays true: every route is described, every description is a route."""

from __future__ import annotations

import re

import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient

DOCUMENTED_PREFIXES = ("/api/", "/open311/")


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for resource in app.router.resources():
        path = resource.canonical
        if not (path.startswith(DOCUMENTED_PREFIXES) or path == "/healthz"):
            continue
        for route in resource:
            if route.method not in ("HEAD", "OPTIONS"):  # aiohttp adds HEAD to every GET
                found.add((route.method.lower(), path))
    return found


async def test_every_route_is_documented_and_every_documented_path_exists(
    client: TestClient,
) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    documented = {
        (method, path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }
    routes = app_routes(client.server.app)  # type: ignore[attr-defined]
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented paths the app does not serve"
    # Every operation can be loaded by a real OpenAPI tool and has a unique id.
    schema = schemathesis.openapi.from_dict(doc)
    ops = [op.ok() for op in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(ops) == len(documented)
    ids = [o["operationId"] for p in doc["paths"].values() for o in p.values()]
    assert len(ids) == len(set(ids))


async def test_every_reference_resolves(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    text = str(doc)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in doc["components"]["schemas"], name

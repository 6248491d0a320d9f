"""A local HTTP peer standing in for an SMS gateway: it records every request it gets, answers
as the common Chinese APIs do ({"code": 0}), and can be told to be down (HTTP 503)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class SmsPeer:
    requests: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False  # answer 503 (a gateway outage) to every request
    tried: int = 0  # requests received, answered or not
    server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/sms/send", self._send)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/sms/send"

    async def _send(self, request: web.Request) -> web.Response:
        self.tried += 1
        if self.down:
            return web.Response(status=503, text="service unavailable")
        body = await request.json()
        self.requests.append(body)
        return web.json_response({"code": 0, "msg": "发送成功", "sid": f"sid-{self.tried}"})

    def to(self, mobile: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("mobile") == mobile]

    def templates_to(self, mobile: str) -> list[str]:
        return [str(r["template"]) for r in self.to(mobile)]

    @staticmethod
    def params(request: dict[str, Any]) -> dict[str, str]:
        found: dict[str, str] = json.loads(request["params"])
        return found

    async def wait_for(self, mobile: str, count: int, wait: float = 15.0) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while len(self.to(mobile)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{mobile} got {self.templates_to(mobile)}, expected {count}")
            await asyncio.sleep(0.05)
        return self.to(mobile)

    async def wait_tried(self, count: int, wait: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while self.tried < count:
            if loop.time() > deadline:
                raise AssertionError(f"the gateway was tried {self.tried} times, not {count}")
            await asyncio.sleep(0.05)

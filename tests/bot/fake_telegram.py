"""A fake Telegram Bot API server on 127.0.0.1: the real python-telegram-bot talks to it.

It implements the methods the bot uses (getMe, getUpdates, sendMessage, sendPhoto, getFile and
the file download, answerCallbackQuery, editMessageText, …), hands out the updates a test
queues as a real server would, and records every call so tests assert on what the citizen saw.
A test can make the next calls of a method fail (HTTP 500, 429 with retry_after, 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_USER = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "淄川执法监督",
    "username": "zc_feedback_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# A few bytes that are a JPEG as far as content sniffing goes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of the inline keyboard, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b.get("text"), b.get("callback_data"))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class FakeTelegram:
    token: str = "123456789:TEST-token-not-real"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    server: TestServer | None = None
    delay: float = 0.0  # seconds each sendMessage takes (a slow network, a busy Telegram)

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._seen: dict[int, int] = {}  # chat -> index in calls already looked at

    # -- running -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/bot"

    @property
    def base_file_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/file/bot"

    # -- what a test does ----------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._new_update.set()
        return update

    def user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "市民", "language_code": "zh-hans"}

    def chat(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "市民"}

    def message(self, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": self.user(chat_id),
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        msg.update(extra)
        return self.push({"message": msg})

    def photo(self, chat_id: int, data: bytes = JPEG) -> str:
        file_id = f"photo-{len(self.files) + 1}"
        self.files[file_id] = data
        sizes = [
            {"file_id": f"{file_id}-thumb", "file_unique_id": f"u{file_id}t", "width": 90,
             "height": 90, "file_size": 100},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280,
             "height": 960, "file_size": len(data)},
        ]  # fmt: skip
        self.push(
            {
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": self.chat(chat_id),
                    "from": self.user(chat_id),
                    "photo": sizes,
                }
            }
        )
        return file_id

    def press(self, chat_id: int, data: str, *, on: Call | None = None,
              from_user: int | None = None) -> dict[str, Any]:  # fmt: skip
        """A tap on an inline button (of the message ``on``, else the last one to the chat)."""
        message = on or self.last_to(chat_id)
        return self.push(
            {
                "callback_query": {
                    "id": f"cb{next(self._message_ids)}",
                    "from": self.user(from_user or chat_id),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": {
                        "message_id": int(message.params.get("_message_id", 1)) if message else 1,
                        "date": int(time.time()),
                        "chat": self.chat(chat_id),
                        "from": BOT_USER,
                        "text": message.text if message else "",
                    },
                }
            }
        )

    def fail(self, method: str, status: int, times: int = 1, **parameters: Any) -> None:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": {
                429: "Too Many Requests: retry after",
                403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error",
            }.get(status, "Error"),
        }
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).extend([(status, body)] * times)

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "editMessageText", "sendPhoto")
            and (chat_id is None or c.chat_id == chat_id)
            and (method is None or c.method == method)
        ]

    def last_to(self, chat_id: int) -> Call | None:
        found = [c for c in self.sent(chat_id) if c.method == "sendMessage"]
        return found[-1] if found else None

    async def expect(
        self, chat_id: int, contains: str, wait: float = 5.0, *, in_order: bool = True
    ) -> Call:
        """The next message to ``chat_id`` (after those already expected) containing the text.
        With ``in_order=False`` any message counts: for notices that race with replies."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            start = self._seen.get(chat_id, 0) if in_order else 0
            for i in range(start, len(self.calls)):
                c = self.calls[i]
                if c.chat_id == chat_id and c.method in ("sendMessage", "editMessageText") \
                        and contains in c.text:  # fmt: skip
                    if in_order:
                        self._seen[chat_id] = i + 1
                    return c
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                got = [c.text[:80] for c in self.sent(chat_id)]
                raise AssertionError(f"no message containing {contains!r} to {chat_id}; got {got}")
            self._new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_call.wait(), timeout=min(left, 0.2))

    # -- the server ----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else "<file>"
        for key in ("reply_markup", "allowed_updates"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    def _ok(self, result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            self.calls.append(Call(method, params))
            self._new_call.set()
        queued = self.failures.get(method)
        if queued:
            status, body = queued.pop(0)
            return web.json_response(body, status=status)
        handler = getattr(self, f"_m_{method}", None)
        if self.delay and method == "sendMessage":
            await asyncio.sleep(self.delay)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        result: Any = await handler(params)
        return self._ok(result)

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        file_id = path.rsplit("/", 1)[-1].split(".", 1)[0]
        data = self.files.get(file_id)
        if data is None or request.match_info["token"] != self.token:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), 1.0)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=wait)
            except TimeoutError:
                return []
        return self.updates[:100]

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = int(params.get("message_id") or next(self._message_ids))
        params["_message_id"] = message_id
        chat_id = int(params["chat_id"])
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": BOT_USER,
            **content,
        }

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        text = params.get("text", "")
        if not text or len(text) > 4096:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400,
                                 "description": "Bad Request: message text is invalid"}),
                content_type="application/json",
            )  # fmt: skip
        return self._message(params, text=text)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._message(params, photo=[{"file_id": "x", "file_unique_id": "x",
                                             "width": 1, "height": 1}])  # fmt: skip

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._message(params, text=params.get("text", ""))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._message(params, text="")

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        data = self.files.get(file_id)
        if data is None:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400,
                                 "description": "Bad Request: invalid file_id"}),
                content_type="application/json",
            )  # fmt: skip
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": f"photos/{file_id}.jpg",
        }

"""Local HTTP peers standing in for Aliyun's and Tencent Cloud's SMS APIs. Each checks the
request's signature with its own implementation of the vendor's documented algorithm (written
here from the documents, not imported from feedback.sms) and answers as the vendor does: the
message recorded and a success answer, or the vendor's own signature error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def pop_encode(text: str) -> str:
    """Aliyun's percent-encoding, byte by byte: unreserved bytes as they are, others %XY."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def aliyun_expected(method: str, fields: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in fields.items() if k != "Signature")
    canonical = "&".join(pop_encode(k) + "=" + pop_encode(v) for k, v in pairs)
    to_sign = method + "&" + pop_encode("/") + "&" + pop_encode(canonical)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def tc3_expected(method: str, headers: dict[str, str], body: bytes, secret_key: str,
                 signed: list[str], timestamp: str, date: str, service: str) -> str:  # fmt: skip
    canonical_headers = "".join(f"{h}:{headers[h].strip().lower()}\n" for h in signed)
    request = "\n".join([method, "/", "", canonical_headers, ";".join(signed),
                         hashlib.sha256(body).hexdigest()])  # fmt: skip
    to_sign = "\n".join(["TC3-HMAC-SHA256", timestamp, f"{date}/{service}/tc3_request",
                         hashlib.sha256(request.encode()).hexdigest()])  # fmt: skip

    def step(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = step(step(step(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class VendorPeer:
    vendor: str  # "aliyun" or "tencent"
    key_id: str
    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)  # the accepted messages
    refused: list[str] = field(default_factory=list)  # why a request was refused
    server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._aliyun if self.vendor == "aliyun" else self._tencent)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/"

    async def _aliyun(self, request: web.Request) -> web.Response:
        fields = {k: str(v) for k, v in (await request.post()).items()}
        missing = [k for k in ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "Signature",
                               "SignatureMethod", "SignatureNonce", "SignatureVersion",
                               "TemplateCode", "TemplateParam", "Timestamp", "Version")
                   if k not in fields]  # fmt: skip
        if missing:
            return self._aliyun_error(400, "MissingParameter", ",".join(missing))
        if fields["AccessKeyId"] != self.key_id:
            return self._aliyun_error(404, "InvalidAccessKeyId.NotFound", fields["AccessKeyId"])
        good = aliyun_expected(request.method, fields, self.secret)
        if not hmac.compare_digest(good, fields["Signature"]):
            return self._aliyun_error(400, "SignatureDoesNotMatch", "Specified signature is "
                                      "not matched with our calculation.")  # fmt: skip
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["Timestamp"]):
            return self._aliyun_error(400, "InvalidTimeStamp.Format", fields["Timestamp"])
        ok = (fields["Action"] == "SendSms" and fields["Version"] == "2017-05-25"
              and fields["SignatureMethod"] == "HMAC-SHA1")  # fmt: skip
        if not ok:
            return self._aliyun_error(400, "InvalidParameter", "Action/Version")
        self.received.append({
            "phone": fields["PhoneNumbers"], "template": fields["TemplateCode"],
            "params": json.loads(fields["TemplateParam"]), "sign_name": fields["SignName"],
            "region": fields.get("RegionId"),
        })  # fmt: skip
        return web.json_response({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                                  "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})  # fmt: skip

    def _aliyun_error(self, status: int, code: str, message: str) -> web.Response:
        self.refused.append(code)
        return web.json_response({"Code": code, "Message": message,
                                  "RequestId": "8906582E-6722"}, status=status)  # fmt: skip

    async def _tencent(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        auth = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d\d-\d\d)/(\w+)/tc3_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            headers.get("authorization", ""),
        )
        if auth is None:
            return self._tencent_error("AuthFailure.InvalidAuthorization", "bad Authorization")
        key_id, date, service, signed, sig = auth.groups()
        timestamp = headers.get("x-tc-timestamp", "")
        names = signed.split(";")
        if key_id != self.key_id:
            return self._tencent_error("AuthFailure.SecretIdNotFound", key_id)
        if not {"content-type", "host"} <= set(names) or names != sorted(names):
            return self._tencent_error("AuthFailure.InvalidAuthorization", signed)
        if not timestamp.isdigit() or (
            datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != date
        ):
            return self._tencent_error("AuthFailure.InvalidAuthorization", "date/timestamp")
        good = tc3_expected(request.method, headers, body, self.secret, names, timestamp, date,
                            service)  # fmt: skip
        if service != "sms" or not hmac.compare_digest(good, sig):
            return self._tencent_error(
                "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
            )
        if (headers.get("x-tc-action"), headers.get("x-tc-version")) != ("SendSms", "2021-01-11"):
            return self._tencent_error("InvalidAction", "action/version")
        data = json.loads(body)
        self.received.append({
            "phone": data["PhoneNumberSet"][0], "template": data["TemplateId"],
            "params": data["TemplateParamSet"], "sign_name": data["SignName"],
            "app_id": data["SmsSdkAppId"], "region": headers.get("x-tc-region"),
        })  # fmt: skip
        return web.json_response({"Response": {
            "SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619",
                               "PhoneNumber": data["PhoneNumberSet"][0], "Fee": 1,
                               "SessionContext": "", "Code": "Ok", "Message": "send success",
                               "IsoCode": "CN"}],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}})  # fmt: skip

    def _tencent_error(self, code: str, message: str) -> web.Response:
        self.refused.append(code)
        # Tencent answers errors with HTTP 200 and Response.Error.
        return web.json_response({"Response": {"Error": {"Code": code, "Message": message},
                                               "RequestId": "ed93f3cb-f35e"}})  # fmt: skip

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["phone"].endswith(phone)]

"""SMS through Aliyun's and Tencent Cloud's own APIs (sms_api = aliyun / tencent): the signing
reproduces each vendor's published worked example exactly, and a web reporter's notices reach
a local peer that checks every signature with its own implementation of the documented
algorithm (tests/notices/vendor_peers.py). A key the vendor refuses leaves the notice kept, a
dead letter the supervisor sends again once the key is right."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from feedback import sms
from feedback.notifications import MAX_ATTEMPTS
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.workflow import Action
from tests.conftest import SUPERVISOR, Clock
from tests.notices.vendor_peers import VendorPeer
from tests.web.conftest import MakeVisitor, submit

MOBILE = "13800138000"
NAMED = {"anonymous": "0", "contact_name": "王五", "notify_sms": MOBILE}

# -- the vendors' published examples ----------------------------------------------------------

# Aliyun SMS, "HTTP协议及签名" (help.aliyun.com/document_detail/56189): SendSms signed with
# AccessKeySecret testSecret by GET.
ALIYUN_SMS_EXAMPLE = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}  # fmt: skip
ALIYUN_SMS_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF"
    "%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF"
    "%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce"
    "%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
# Aliyun's general RPC signature document: ECS DescribeRegions, AccessKeySecret testsecret.
ALIYUN_RPC_EXAMPLE = {
    "Timestamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
    "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
    "SignatureVersion": "1.0",
}  # fmt: skip


def test_aliyun_signing_reproduces_the_published_examples() -> None:
    assert sms.aliyun_string_to_sign("GET", ALIYUN_SMS_EXAMPLE) == ALIYUN_SMS_STRING_TO_SIGN
    assert sms.aliyun_signature("GET", ALIYUN_SMS_EXAMPLE, "testSecret") == (
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )
    assert sms.aliyun_signature("GET", ALIYUN_RPC_EXAMPLE, "testsecret") == (
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    )
    # A Signature already among the fields is not signed over.
    signed = {**ALIYUN_RPC_EXAMPLE, "Signature": "OLeaidS1JvxuMvnyHOwuJ+uX5qY="}
    assert sms.aliyun_signature("GET", signed, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert sms.percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_tencent_tc3_reproduces_the_published_example() -> None:
    # Tencent Cloud API 3.0, "签名方法 v3" / "Signature v3": CVM DescribeInstances at
    # 1551113065, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE; every intermediate value the
    # document prints is checked, then the Authorization header it gives.
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Host": "cvm.tencentcloudapi.com"}  # fmt: skip
    canonical = sms.tc3_canonical_request("POST", headers, ["content-type", "host"], payload)
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
        "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    auth = sms.tc3_authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                                 "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm", 1551113065,
                                 canonical, ["content-type", "host"])  # fmt: skip
    assert auth == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_a_vendor_needs_its_keys() -> None:
    base = {"sms_sign_key": "s", "sms_key_id": "id"}
    with pytest.raises(ValueError, match="sms_api"):
        sms.SmsSettings.of(Settings(sms_api="huawei"), "Asia/Shanghai")
    with pytest.raises(ValueError, match="sms_key_id"):
        sms.SmsSettings.of(Settings(sms_api="aliyun", sms_sign_key="s"), "Asia/Shanghai")
    with pytest.raises(ValueError, match="sms_app_id"):
        sms.SmsSettings.of(Settings(sms_api="tencent", **base), "Asia/Shanghai")
    conf = sms.SmsSettings.of(Settings(sms_api="aliyun", **base), "Asia/Shanghai")
    assert conf is not None and conf.url == sms.ALIYUN_URL and conf.region == "cn-hangzhou"
    assert conf.sign_name == "淄川区司法局"
    conf = sms.SmsSettings.of(Settings(sms_api="tencent", sms_app_id="1400", **base), "UTC")
    assert conf is not None and conf.url == sms.TENCENT_URL and conf.region == "ap-guangzhou"


# -- against local peers ------------------------------------------------------------------------


@pytest.fixture(params=["aliyun", "tencent"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[VendorPeer]:
    key_id = "LTAI5tTestKeyId" if request.param == "aliyun" else "AKIDTestSecretId"
    peer = VendorPeer(request.param, key_id, "vendor-test-secret")
    await peer.start()
    yield peer
    await peer.close()


# The ids each provider gave our templates when they were registered (sms_template_ids):
# Aliyun's SMS_… codes, Tencent's numbers.
PROVIDER_IDS = {
    "aliyun": {"FB_SUBMIT": "SMS_465300001", "FB_SUBMIT_CODE": "SMS_465300002"},
    "tencent": {"FB_SUBMIT": "2130001", "FB_SUBMIT_CODE": "2130002"},
}


def test_the_template_ids_are_a_setting_checked_at_start() -> None:
    base = {"sms_url": "http://gw"}
    ids = '{"FB_SUBMIT": "SMS_465300001", "FB_ACCEPT": 2130005}'
    conf = sms.SmsSettings.of(Settings(sms_template_ids=ids, **base), "UTC")
    assert conf is not None
    assert conf.registered(sms.templates()["submit"]).id == "SMS_465300001"
    assert conf.registered(sms.templates()["accept"]).id == "2130005"
    # Not given: the template's own name, as before.
    assert conf.registered(sms.templates()["submit.code"]).id == "FB_SUBMIT_CODE"
    # route, assign and send_back.routed share one wording, so one registered template.
    assert {t.key for t in sms.template_names()["FB_ROUTE"]} == {
        "route", "assign", "send_back.routed"}  # fmt: skip
    for bad, says in (('{"FB_SUMBIT": "SMS_1"}', "unknown templates: FB_SUMBIT"),
                      ('["SMS_1"]', "JSON object"), ("{FB_SUBMIT: 1}", "not a JSON object"),
                      ('{"FB_SUBMIT": ""}', "FB_SUBMIT must be a non-empty")):  # fmt: skip
        with pytest.raises(ValueError, match=says):
            sms.SmsSettings.of(Settings(sms_template_ids=bad, **base), "UTC")


@pytest.fixture
def settings(tmp_path: Path, database: str, vendor: VendorPeer) -> Settings:
    return Settings(
        db=database,
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-that-is-long-enough-000",
        tick_seconds=0,
        public_url="https://feedback.example.gov.cn",
        sms_api=vendor.vendor,
        sms_url=vendor.url,
        sms_key_id=vendor.key_id,
        sms_sign_key="vendor-test-secret",
        sms_app_id="1400787878",
        sms_timeout=5,
        sms_template_ids=json.dumps(PROVIDER_IDS[vendor.vendor]),
    )


async def _received(peer: VendorPeer, count: int, wait: float = 15.0) -> list[dict[str, object]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while len(peer.to(MOBILE)) < count:
        if loop.time() > deadline:
            raise AssertionError(f"{peer.vendor}: {peer.received}, refused {peer.refused}")
        await asyncio.sleep(0.05)
    return peer.to(MOBILE)


async def test_the_receipt_goes_out_signed_as_the_vendor_checks_it(
    visitor: MakeVisitor, service: FeedbackService, vendor: VendorPeer
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen, **NAMED, notify_code="1")
    [got] = await _received(vendor, 1)
    assert vendor.refused == []
    ids = PROVIDER_IDS[vendor.vendor]  # the provider's own id, not our template's name
    assert got["template"] == ids["FB_SUBMIT_CODE"] and got["sign_name"] == "淄川区司法局"
    if vendor.vendor == "aliyun":
        # ${tn} and ${code} by name, as Aliyun templates are written.
        assert got["params"] == {"tn": tn, "code": code, "dept": got["params"]["dept"]}  # type: ignore[index]
        assert got["phone"] == MOBILE and got["region"] == "cn-hangzhou"
    else:
        # {1}, {2} in the order the template names them: 编号${tn}，查询码${code}.
        assert got["params"] == [tn, code]
        assert got["phone"] == "+86" + MOBILE and got["app_id"] == "1400787878"
    for _ in range(200):  # marked sent a moment after the peer has it
        if not await service.notices.unsent("sms"):
            break
        await asyncio.sleep(0.05)
    rows = await service.store.fetch("SELECT sent_at, secret FROM outbox WHERE channel = 'sms'")
    assert rows[0]["sent_at"] and rows[0]["secret"] is None


async def test_a_refused_key_keeps_the_notice_for_the_supervisor(
    visitor: MakeVisitor, service: FeedbackService, vendor: VendorPeer, clock: Clock
) -> None:
    vendor.secret = "the-key-was-rotated"  # the vendor no longer takes our secret
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not await service.dead_letters(SUPERVISOR):
        assert loop.time() < deadline, vendor.refused
        await asyncio.sleep(0.05)
    [dead] = await service.dead_letters(SUPERVISOR)
    expected = "SignatureDoesNotMatch" if vendor.vendor == "aliyun" else "SignatureFailure"
    assert dead["tracking_number"] == tn and expected in str(dead["last_error"])
    assert vendor.received == [] and vendor.refused
    # Given up at once (trying the same key again cannot help), and kept.
    assert dead["attempts"] == MAX_ATTEMPTS
    vendor.secret = "vendor-test-secret"  # the operator puts the right key back
    await service.requeue_notice(SUPERVISOR, int(dead["id"]))
    await service.announce(tn, Action.NOTE)  # wakes the sender
    [got] = await _received(vendor, 1)
    assert got["template"] == PROVIDER_IDS[vendor.vendor]["FB_SUBMIT"]
    assert json.dumps(got, ensure_ascii=False).count(tn) == 1

"""A citizen leaves a phone number the way phones and input methods write it: the browser's
autofill gives "+86 138 0013 8000", a Chinese input method in full-width mode types
"１３８－００１３－８０００", a landline comes as "(0533)1234567". Each is the same number:
the report is filed, the bureau sees the plain number and the SMS notices go to it."""

from __future__ import annotations

import pytest

from feedback.service import FeedbackService
from tests.web.conftest import MakeVisitor, submit

MOBILE = "13800138000"


@pytest.mark.parametrize(
    ("contact", "sms"),
    [
        ("+86 138 0013 8000", "+8613800138000"),  # Chrome's and Android's autofill
        ("138-0013-8000", "0086 138 0013 8000"),  # as written on a business card
        ("１３８－００１３－８０００", "１３８ ００１３ ８０００"),  # IME in full-width mode
    ],
)
async def test_a_mobile_number_as_the_phone_writes_it_is_the_number(
    visitor: MakeVisitor, service: FeedbackService, contact: str, sms: str
) -> None:
    citizen = await visitor()
    tn, _ = await submit(
        citizen, anonymous="0", contact_name="张三", contact_phone=contact, notify_sms=sms
    )
    report = await service.store.get_report(tn)
    assert report is not None and report.contact.phone == MOBILE
    rows = await service.store.fetch("SELECT address FROM notice_channels WHERE channel = 'sms'")
    assert [r["address"] for r in rows] == [MOBILE]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("(0533)1234567", "05331234567"), ("（0533）1234567", "05331234567"),
     ("+86 533 1234567", "05331234567"), ("0533-1234567", "0533-1234567")],
)  # fmt: skip
async def test_a_landline_with_brackets_or_the_country_code_is_kept(
    visitor: MakeVisitor, service: FeedbackService, typed: str, kept: str
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, anonymous="0", contact_name="张三", contact_phone=typed)
    report = await service.store.get_report(tn)
    assert report is not None and report.contact.phone == kept


async def test_a_number_that_is_not_one_is_still_refused_with_its_reason(
    visitor: MakeVisitor,
) -> None:
    citizen = await visitor()
    await citizen.get("/report")
    for typed in ("12345", "+1 415 555 0100", "138001380001"):
        status, html = await citizen.post(
            "/report",
            {"text": "城管执法人员罚款不开票据，也不出示证件。", "anonymous": "0",
             "contact_phone": typed},
        )  # fmt: skip
        assert status == 400 and "手机号码应为 11 位数字" in html, typed

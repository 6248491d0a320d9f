"""A citizen types the tracking number the way it reaches them: copied from an SMS on a phone
whose keyboard has no dash handy ("zc2026000001"), read off the receipt with spaces
("ZC 2026 000001"), or in the IME's full-width mode. Each is the same number: the status page
opens with the code, as it does for the number typed with its dashes."""

from __future__ import annotations

import pytest

from feedback.secrets import normalise_tracking_number
from tests.web.conftest import MakeVisitor, submit


def as_typed(tn: str, how: str) -> str:
    prefix, year, seq = tn.split("-")
    return {
        "no dashes, lower case": f"{prefix}{year}{seq}".lower(),
        "spaces": f"{prefix} {year} {seq}",
        "underscores": f"{prefix}_{year}_{seq}",
        "one dash left out": f"{prefix}-{year}{seq}",
        "full-width, no dashes": f"{prefix}{year}{seq}".translate(
            {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
        ),
    }[how]


@pytest.mark.parametrize(
    "how",
    ["no dashes, lower case", "spaces", "underscores", "one dash left out",
     "full-width, no dashes"],
)  # fmt: skip
async def test_the_number_typed_without_its_dashes_opens_the_status_page(
    visitor: MakeVisitor, how: str
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await citizen.get("/track")
    status, html = await citizen.post("/track", {"tn": as_typed(tn, how), "code": code})
    assert status == 200, html
    assert tn in html and "办理记录" in html


async def test_a_wrong_number_without_dashes_is_still_not_found(visitor: MakeVisitor) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    prefix, year, seq = tn.split("-")
    other = f"{prefix}{year}{int(seq) + 1:06d}"
    await citizen.get("/track")
    status, html = await citizen.post("/track", {"tn": other, "code": code})
    assert status == 404 and "办理记录" not in html


@pytest.mark.parametrize("typed", ["2026-301", "ZC20261", "hello", "ZC-2026-0000123"])
def test_what_is_not_a_number_without_dashes_is_left_as_typed(typed: str) -> None:
    # A staff search word such as "2026-301" keeps its own short form (search_words expands it).
    assert normalise_tracking_number(typed) == typed.upper()

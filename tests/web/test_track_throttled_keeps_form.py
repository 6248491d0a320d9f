"""A citizen mistypes the follow-up code a few times (O for 0, a group left out) and is asked to
wait before the next try. The wait is said above the tracking form, with the number and the
code still in it, so after the wait one press of 查询 is enough -- not a bare "429 操作过于频繁"
page whose only way on is 回到首页 and typing both again."""

from __future__ import annotations

import re

from tests.conftest import Clock
from tests.web.conftest import MakeVisitor, submit


async def test_the_wait_is_said_on_the_form_with_what_was_typed(
    visitor: MakeVisitor, clock: Clock
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    typo = code.replace(code[0], "O" if code[0] != "O" else "0", 1)
    await citizen.get("/track")
    for _ in range(5):
        status, _ = await citizen.post("/track", {"tn": tn, "code": typo})
        assert status == 404
    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 429
    assert citizen.last is not None and citizen.last.headers["Retry-After"] == "1"
    notice = re.search(r'<p class="notice warn" role="alert" id="throttled">(.*?)</p>', html)
    assert notice and "请 1 秒后再试" in notice.group(1)
    assert 'action="/track"' in html and f'value="{tn}"' in html and f'value="{code}"' in html
    # Not the code's fault (it may be right): no field is marked wrong.
    assert 'aria-invalid="true"' not in html

    clock.advance(seconds=1)
    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and tn in html and "办理记录" in html

"""A broken form body is the sender's mistake: 400 with a Chinese message, never a 500."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeVisitor

BROKEN = [
    # A multipart body cut off in the middle of a part.
    ("multipart/form-data; boundary=XyZ", b'--XyZ\r\nContent-Disposition: form-data; name="title"'),
    # A boundary that never appears.
    ("multipart/form-data; boundary=XyZ", b"no parts at all"),
    # No boundary at all.
    ("multipart/form-data", b"--x\r\n\r\n"),
]


@pytest.mark.parametrize("path", ["/report", "/track", "/staff/login"])
async def test_malformed_multipart_with_the_token_in_a_header_is_a_400(
    visitor: MakeVisitor, path: str
) -> None:
    v = await visitor()
    await v.get("/report")
    for content_type, body in BROKEN:
        resp = await v.client.post(
            path, data=body, headers={"Content-Type": content_type, "X-CSRF-Token": v.token}
        )
        html = await resp.text()
        assert resp.status == 400, (path, content_type, html[:200])
        assert "表单" in html and "服务器内部错误" not in html
    # The site still works for the same visitor afterwards.
    status, _ = await v.get("/report")
    assert status == 200


@pytest.mark.parametrize("path", ["/report", "/track", "/staff/login"])
async def test_a_form_that_is_not_utf8_is_a_400_saying_so_not_a_refusal(
    visitor: MakeVisitor, path: str
) -> None:
    # A proxy or an old client that re-encodes the form (GBK bytes declared as UTF-8): the
    # sender is told the form could not be read, not "无权访问" as if it were forged.
    v = await visitor()
    await v.get("/report")
    body = f"csrf_token={v.token}&text=".encode() + "城管乱罚款不开票据".encode("gbk")
    resp = await v.client.post(
        path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    html = await resp.text()
    assert resp.status == 400, (path, html[:300])
    assert "表单格式有误" in html and "无权访问" not in html

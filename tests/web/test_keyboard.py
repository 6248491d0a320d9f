"""With the keyboard alone (Tab, Shift+Tab, Enter, Space; JavaScript off): a citizen reports,
follows up and rates; a clerk logs in, signs for the report and answers it, after a first answer
too short (the page opens with the focus on the field in error). Every element the
Tab key lands on shows a focus outline a person can see: at least 2 px, and at least 3:1
against what is behind it (WCAG 2.1 1.4.11), in sight on the screen (issue 20, part 2).
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, new_page, shot
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import PASSWORD, REPORT_FORM

pytestmark = MARKS

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还罚款，对相关人员批评教育。"

# What the focused element looks like: its outline, and whether it is where it can be seen.
FOCUSED = """() => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  // The outline is drawn outside the element (outline-offset): it is seen against the first
  // ancestor with a background of its own.
  let p = e.parentElement, behind = 'rgb(255, 255, 255)';
  for (; p; p = p.parentElement) {
    const bg = getComputedStyle(p).backgroundColor;
    if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') { behind = bg; break; }
  }
  return {behind,tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name'),
          value: e.getAttribute('value'), text: (e.innerText || '').trim().slice(0, 40),
          href: e.getAttribute('href'), outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth), color: s.outlineColor,
          on_screen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
                     && r.top < innerHeight && r.left < innerWidth};
}"""


def luminance(css: str) -> float:
    """Relative luminance (WCAG 2.1) of a computed 'rgb(r, g, b)' colour."""
    channels = [float(c) / 255 for c in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class Keyboard:
    """Presses keys on one page and checks, at every stop, that the focus can be seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops = 0

    async def focused(self) -> dict[str, Any]:
        return await self.page.evaluate(FOCUSED)

    async def landed(self) -> dict[str, Any]:
        """The focus once the page's autofocus has landed: the browser applies it at its next
        rendering update, after the load (or 2 s pass, and the caller's checks say why)."""
        with contextlib.suppress(Exception):  # playwright's TimeoutError
            await self.page.wait_for_function(
                "() => document.activeElement && document.activeElement !== document.body",
                timeout=2000,
            )
        return await self.focused()

    async def tab_to(self, matches: Any, limit: int = 80) -> dict[str, Any]:
        """Tab forward until the focused element matches; each stop must show its focus."""
        for _ in range(limit):
            await self.page.keyboard.press("Tab")
            f = await self.focused()
            if f["tag"] == "body":
                continue
            self.stops += 1
            assert f["outline"] != "none" and f["width"] >= 2, f"focus not visible on {f}"
            ratio = contrast(f["color"], f["behind"])
            assert ratio >= 3, f"focus outline {ratio:.1f}:1 against its background on {f}"
            assert f["on_screen"], f"focused element out of sight: {f}"
            if matches(f):
                return f
        raise AssertionError(f"Tab never reached the element on {self.page.url}")

    async def type(self, text: str) -> None:
        await self.page.keyboard.type(text)

    async def press(self, key: str) -> None:
        await self.page.keyboard.press(key)


def field(id_: str) -> Any:
    return lambda f: f["id"] == id_


def link(text: str) -> Any:
    return lambda f: f["tag"] == "a" and f["text"] == text


def button(text: str) -> Any:
    return lambda f: f["tag"] == "button" and f["text"] == text


def radio(name: str, value: str) -> Any:
    return lambda f: f["tag"] == "input" and f["name"] == name and f["value"] == value


async def test_report_follow_up_rate_sign_for_and_answer_with_the_keyboard_alone(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")

    # A citizen on a phone: the first Tab is the skip link, then the form is filled in.
    page = await new_page(browser, PHONE)
    kb = Keyboard(page)
    await page.goto(base + "/")
    skip = await kb.tab_to(lambda f: True)
    assert skip["text"] == "跳到正文" and skip["on_screen"]
    await kb.tab_to(link("我要反映问题"))
    await kb.press("Enter")
    await page.wait_for_url("**/report")
    # The first choice (投诉、举报) is already checked: Tab lands on it and goes on.
    await kb.tab_to(radio("kind", "complaint"))
    await kb.tab_to(field("f-text"))
    await kb.type(REPORT_FORM["text"])
    await kb.tab_to(field("f-place"))
    await kb.type(REPORT_FORM["place"])
    # Leave a contact: Tab to the checked 匿名反映, the arrow keys move within the group.
    await kb.tab_to(radio("anonymous", "1"))
    await kb.press("ArrowRight")
    assert (await kb.focused())["value"] == "0"
    assert await page.is_checked("input[name=anonymous][value='0']")
    await kb.tab_to(field("f-contact_name"))
    await kb.type("张三")
    await kb.tab_to(field("f-contact_phone"))
    await kb.type("13800001234")
    await kb.tab_to(button("下一步：预览"))
    await shot(page, "kb-01-report-submit-focused-phone")
    await kb.press("Enter")
    await page.wait_for_selector("#do-confirm")
    await kb.tab_to(button("确认提交"))
    await kb.press("Enter")
    await page.wait_for_selector("#tracking-number")
    tn = (await page.inner_text("#tracking-number")).strip()
    code = (await page.inner_text("#follow-up-code")).strip()

    # From the receipt to the status page: its own button, pressed with Enter.
    await kb.tab_to(button("查看办理进度"))
    await kb.press("Enter")
    await page.wait_for_selector("#status")
    assert "待人工分办" in await page.inner_text("#status")

    # The triage desk assigns it (its own story is tested elsewhere).
    await service.assign(SUPERVISOR, tn, "zhzf")

    # A clerk at a desk: logs in, opens the report from the queue, signs for it, answers.
    clerk = await new_page(browser, DESKTOP)
    ck = Keyboard(clerk)
    await clerk.goto(base + "/staff/login")
    await ck.tab_to(field("f-username"))
    await ck.type("zhzf1")
    await ck.tab_to(field("f-password"))
    await ck.type(PASSWORD)
    await ck.press("Enter")
    await clerk.wait_for_url("**/staff")
    await ck.tab_to(link(tn))
    await ck.press("Enter")
    await clerk.wait_for_url(f"**/staff/reports/{tn}")
    await ck.tab_to(field("do-accept"))
    await ck.press("Space")
    await clerk.wait_for_selector(".notice.ok")
    assert "已签收" in await clerk.inner_text(".notice.ok")
    # A first answer too short: the page comes back with the focus in the answer, marked
    # invalid and described by the error printed under it; the clerk goes on from there.
    await ck.tab_to(field("f-answer"))
    await ck.type("已处理")
    await ck.tab_to(field("do-answer"))
    await ck.press("Enter")
    await clerk.wait_for_selector("#answer-answer-error")
    back = await ck.landed()
    assert back["id"] == "f-answer" and back["on_screen"], back
    assert back["outline"] != "none" and back["width"] >= 2, back
    assert contrast(back["color"], back["behind"]) >= 3, back
    assert await clerk.get_attribute("#f-answer", "aria-invalid") == "true"
    said = await clerk.get_attribute("#f-answer", "aria-describedby")
    assert said and "至少" in await clerk.inner_text(f"#{said.split()[0]}")
    await shot(clerk, "kb-02-answer-error-focused")
    await ck.press("Control+A")
    await ck.type(ANSWER)
    await ck.tab_to(field("do-answer"))
    await shot(clerk, "kb-02-answer-focused")
    await ck.press("Enter")
    await clerk.wait_for_selector("#status:has-text('已答复')")

    # Days later, in another browser, the citizen types the number and the code, reads the
    # answer and rates it: Space picks 满意, Enter sends.
    page = await new_page(browser, PHONE)
    kb2 = Keyboard(page)
    await page.goto(base + "/track")
    await kb2.tab_to(field("f-tn"))
    await kb2.type(tn)
    await kb2.tab_to(field("f-code"))
    await kb2.type(code)
    await kb2.press("Enter")
    await page.wait_for_selector("#answer")
    await kb2.tab_to(radio("rating", "satisfied"))
    await kb2.press("Space")
    assert await page.is_checked("input[name=rating][value=satisfied]")
    await kb2.tab_to(field("f-comment"))
    await kb2.type("处理及时")
    await kb2.tab_to(button("提交评价"))
    await shot(page, "kb-03-rate-focused-phone")
    await kb2.press("Enter")
    await page.wait_for_selector("#status:has-text('已办结')")
    assert "感谢您的评价" in await page.inner_text("main")
    assert kb.stops + ck.stops + kb2.stops >= 20


# Every field a person types into, with the colour of its edge and of what is behind it.
EDGES = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'radio', 'checkbox', 'submit', 'file'].includes(e.type)
               && e.getBoundingClientRect().width > 0)
  .map(e => {
    let p = e.parentElement, behind = 'rgb(255, 255, 255)';
    for (; p; p = p.parentElement) {
      const bg = getComputedStyle(p).backgroundColor;
      if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') { behind = bg; break; }
    }
    const s = getComputedStyle(e);
    return {name: e.name || e.id, edge: s.borderTopColor, width: parseFloat(s.borderTopWidth),
            behind};
  })"""


async def test_every_field_shows_its_edge(browser: Any, server: TestServer) -> None:
    # Where to type must be seen without colour vision tricks: each text field's border at
    # least 3:1 against the page around it (WCAG 2.1 1.4.11), on the citizen's and staff forms.
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    seen = 0
    for path in ("/report", "/track", "/staff/login", "/public/reports"):
        await page.goto(base + path)
        for f in await page.evaluate(EDGES):
            seen += 1
            ratio = contrast(f["edge"], f["behind"])
            assert f["width"] >= 1 and ratio >= 3, f"{path} {f['name']}: edge {ratio:.2f}:1"
    assert seen >= 6


async def test_a_secondary_button_does_not_look_like_the_main_one(
    browser: Any, server: TestServer
) -> None:
    # 搜索 and 查找 on the disclosure page are secondary: white with a blue border and text,
    # unlike the filled main buttons (a clerk must tell 检查答复质量 from 发送答复 the same way).
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, DESKTOP)
    await page.goto(base + "/public")
    looks = await page.evaluate("""() => [...document.querySelectorAll('button.secondary')]
        .map(b => getComputedStyle(b).backgroundColor)""")
    assert looks and set(looks) == {"rgb(255, 255, 255)"}, looks
    await page.goto(base + "/report")
    main = await page.evaluate(
        "() => getComputedStyle(document.querySelector('main button[type=submit]')).backgroundColor"
    )
    assert main != "rgb(255, 255, 255)"


async def test_a_mistake_in_the_report_form_is_one_keypress_from_its_field(
    browser: Any, server: TestServer
) -> None:
    """The form comes back with the focus on its list of mistakes; each mistake is a link, and
    following it with the keyboard puts the citizen in the field to fix (issue 20, part 2)."""
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/report")
    await page.fill("#f-text", "太短")
    await page.click("#do-preview")
    keys = Keyboard(page)
    first = await keys.landed()
    assert first["id"] == "error-summary", first
    found = await keys.tab_to(lambda f: f["tag"] == "a" and f["href"] == "#field-text")
    assert "10" in found["text"]
    await keys.press("Enter")
    here = await keys.tab_to(lambda f: True, limit=1)
    assert here["id"] == "f-text", here
    await keys.type("执法队员在般阳路扣押三轮车，没有开具任何票据。")
    await shot(page, "41-report-mistake-fixed-phone")


async def test_the_follow_up_forms_open_with_the_caret_in_the_field_to_fix(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    """Back from a mistake on the follow-up pages, the citizen types straight away: a wrong
    code puts the caret in the code box, an old bookmark in a new browser asks for the code
    with the caret there, and a rating sent without a choice lands on the first choice
    (issue 20, part 2)."""
    base = str(server.make_url("")).rstrip("/")
    result = await service.submit({**REPORT_FORM, "anonymous": "1"})
    tn, code = result.tracking_number, result.follow_up_code
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)

    page = await new_page(browser, PHONE)
    keys = Keyboard(page)
    await page.goto(base + "/track")
    await page.click("button:has-text('查询')")
    here = await keys.landed()
    assert here["id"] == "f-tn", here
    await keys.type(tn)
    await keys.tab_to(field("f-code"))
    await keys.type("ABCD-EFGH-JKMN-PQRS-TVWX")
    await keys.press("Enter")
    await page.wait_for_selector("#code-error")
    here = await keys.landed()
    assert here["id"] == "f-code" and here["on_screen"], here
    assert await page.input_value("#f-tn") == tn
    assert await page.get_attribute("#f-code", "aria-invalid") == "true"
    await keys.press("Control+A")
    await keys.type(code)
    await keys.press("Enter")
    await page.wait_for_selector("#answer")

    # Rating sent without a choice: the first choice has the focus, marked and described.
    await keys.tab_to(button("提交评价"))
    await keys.press("Enter")
    await page.wait_for_selector("#rating-error")
    here = await keys.landed()
    assert (here["name"], here["value"]) == ("rating", "satisfied") and here["on_screen"], here
    assert await page.get_attribute("#rating-error", "role") == "alert"
    await keys.press("Space")
    await keys.tab_to(button("提交评价"))
    await keys.press("Enter")
    await page.wait_for_selector("#status:has-text('已办结')")
    await shot(page, "kb-04-rated-after-mistake-phone")

    # An old link opened in another browser: the number is kept, the caret waits in the code.
    other = await new_page(browser, PHONE)
    await other.goto(base + f"/track/{tn}")
    here = await Keyboard(other).landed()
    assert here["id"] == "f-code", here
    assert await other.input_value("#f-tn") == tn

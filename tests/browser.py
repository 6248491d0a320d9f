"""Shared set-up for tests in a real browser: Debian's Chromium, headless, JavaScript off.

Never downloads a browser: without /usr/bin/chromium the tests that use this are skipped.
Screenshots go to test-artifacts/screenshots/ so a person can look at them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}"),
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    # JavaScript off: every function of the site must work without it.
    context = await browser.new_context(
        viewport=viewport, java_script_enabled=False, locale="zh-CN"
    )
    return await context.new_page()


async def send_report(page: Any, files: list[str] | None = None) -> None:
    """The citizen sends the report form as a person does (issue 18: 4): 下一步：预览, then on
    the preview page (when the form had no mistake) the files, if any, and 确认提交."""
    await page.click("#do-preview")
    if await page.locator("#do-confirm").count():
        if files:
            await page.set_input_files("#f-attachments", files)
        await page.click("#do-confirm")


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# -- accessibility: axe-core (vendored from npm, tests/web/axe/README.md) ---------------------

AXE = Path(__file__).resolve().parent / "web" / "axe" / "axe.min.js"
# What axe-core publishes for 4.14.1 (sri-history.json): the file is the registry's, unchanged.
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_BLOCKING = ("serious", "critical")


def axe_source() -> str:
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core 4.14.1 as published (sha256 {digest})"
    return data.decode()


async def axe_page(browser: Any, viewport: dict[str, int]) -> Any:
    """A page for axe: the same as new_page, but with JavaScript on, because axe schedules its
    checks on timers, which never fire in a page with scripts off. Our pages carry no script
    (CSP script-src 'self' and no <script> anywhere; axe_violations checks), so the page
    axe sees is the page a visitor without JavaScript sees."""
    context = await browser.new_context(viewport=viewport, java_script_enabled=True, locale="zh-CN")
    return await context.new_page()


async def axe_violations(page: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of the page as it is now."""
    assert await page.evaluate("document.scripts.length") == 0, f"a <script> on {page.url}"
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(source)
    result: list[dict[str, Any]] = await page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html,
                                          summary: n.failureSummary}))})))""",
        AXE_TAGS,
    )
    return result

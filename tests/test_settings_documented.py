"""Every setting is documented where operators look (docs/settings.md), with its default and
its help text as declared in feedback/settings.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.settings import help_table

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


@pytest.mark.parametrize(("name", "default", "help"), help_table(), ids=lambda v: str(v)[:30])
def test_the_settings_page_lists_the_setting(name: str, default: str, help: str) -> None:
    row = f"| `{name}` | `{default}` | {help.replace('|', chr(92) + '|')} |"
    assert row in DOCS.read_text(encoding="utf-8").splitlines(), f"docs/settings.md: {row}"


def test_the_open311_limits_table_gives_the_settings_defaults() -> None:
    """docs/open311.md's limits table repeats some defaults; they must be the settings' own."""
    page = (DOCS.parent / "open311.md").read_text(encoding="utf-8")
    defaults = {name: default for name, default, _ in help_table()}
    rows = [line.split("|") for line in page.splitlines() if line.startswith("| `")]
    checked = 0
    for row in rows:
        names = [n.strip(" `") for n in row[1].split(",")]
        values = [v.strip() for v in row[2].split(",")]
        for name, value in zip(names, values, strict=False):
            if name in defaults and value not in ("—", ""):
                assert value == defaults[name], f"docs/open311.md: {name} is {defaults[name]}"
                checked += 1
    assert checked >= 5  # max_body_mb, max_text_chars, max_attachments, …

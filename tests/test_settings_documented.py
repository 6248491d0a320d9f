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

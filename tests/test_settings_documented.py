"""Every setting is documented where operators look (docs/settings.md), with its default and
its help text as declared in feedback/settings.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from feedback.settings import Settings, help_table

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


# -- docs/operations.md's notices section, as an operator copies it ------------------------------

OPERATIONS = DOCS.parent / "operations.md"
# Read by the test tooling (scripts/test, tests/), not by the service.
TEST_ONLY = {"FEEDBACK_TEST_PG_URL", "FEEDBACK_FIXMYSTREET_PERLLIB", "FEEDBACK_TEST_WORKERS"}


def test_every_variable_the_docs_set_is_a_setting() -> None:
    names = {f"FEEDBACK_{name.upper()}" for name, _, _ in help_table()}
    for page in sorted(DOCS.parent.glob("*.md")) + [DOCS.parents[1] / "README.md"]:
        used = set(re.findall(r"FEEDBACK_[A-Z0-9_]+", page.read_text(encoding="utf-8")))
        assert not used - names - TEST_ONLY, f"{page.name}: no such setting {used - names}"


def _notice_examples() -> list[dict[str, str]]:
    """The `export …` groups of the notices section's sh blocks (a blank line parts two
    alternatives, as Aliyun's from Tencent's), each as the variables it sets."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text.split("## Notices by e-mail and SMS", 1)[1].split("\n## ", 1)[0]
    groups = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for part in block.split("\n\n"):
            words = shlex.split(part, comments=True)
            found = {}
            for i, word in enumerate(words):
                if word == "export":
                    for item in words[i + 1 :]:
                        if "=" not in item or not item.startswith("FEEDBACK_"):
                            break
                        name, _, value = item.partition("=")
                        found[name] = value
            if found:
                groups.append(found)
    return groups


def test_the_operations_guide_configures_smtp_and_each_sms_gateway_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from feedback import sms
    from feedback.mailer import MailSettings

    groups = _notice_examples()
    kinds = []
    for env in groups:
        with monkeypatch.context() as m:
            for name, value in env.items():
                m.setenv(name, value)
            settings = Settings.from_env()
            if "FEEDBACK_SMTP_HOST" in env:
                assert MailSettings.of(settings) is not None
                kinds.append("smtp")
            if "FEEDBACK_SMS_URL" in env or "FEEDBACK_SMS_API" in env:
                conf = sms.SmsSettings.of(settings, "Asia/Shanghai")
                assert conf is not None
                kinds.append(conf.api)
            if "FEEDBACK_SMS_TEMPLATE_IDS" in env:
                assert sms.template_ids_of(settings.sms_template_ids)
                kinds.append("template ids")
    assert sorted(kinds) == ["aliyun", "generic", "smtp", "template ids", "tencent"]

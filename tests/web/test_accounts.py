"""Accounts as the administrator makes them: `feedback users add/list/disable`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from feedback import accounts, cli
from feedback.config import Config
from feedback.errors import ValidationError
from feedback.store.sqlite import SQLiteStore


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_first_admin_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "f.db")
    code = run_cli(
        monkeypatch,
        ["users", "add", "Admin", "--role", "admin", "--name", "管理员", "--password-stdin",
         "--db", db],
        "a-long-enough-password\n",
    )  # fmt: skip
    assert code == 0 and "created admin admin" in capsys.readouterr().out
    assert run_cli(monkeypatch, ["users", "add", "bob", "--role", "staff", "--db", db], "x\n") == 2
    assert "必须指定单位代码" in capsys.readouterr().err
    code = run_cli(
        monkeypatch,
        ["users", "add", "bob", "--role", "staff", "--department", "zhzf", "--db", db],
        "short\n",
    )
    assert code == 2 and "密码至少需要" in capsys.readouterr().err
    assert run_cli(monkeypatch, ["users", "disable", "admin", "--db", db]) == 0
    run_cli(monkeypatch, ["users", "list", "--db", db])
    assert "admin\tadmin\tsfj\t管理员\tdisabled" in capsys.readouterr().out


async def test_create_user_checks_and_hashes(store: SQLiteStore, config: Config) -> None:
    user = await accounts.create_user(
        store, config, "Li.Si", "0123456789ab", "staff", "zjj", "李四"
    )
    assert user.username == "li.si" and user.password_hash.startswith("$argon2id$")
    assert "0123456789ab" not in user.password_hash
    with pytest.raises(ValidationError) as dup:
        await accounts.create_user(store, config, "li.si", "0123456789ab", "staff", "zjj")
    assert dup.value.field == "username"
    for bad in [("x", "staff", "zjj"), ("ok_name", "citizen", None), ("ok_name", "staff", "nope")]:
        with pytest.raises(ValidationError):
            await accounts.create_user(store, config, bad[0], "0123456789ab", bad[1], bad[2])
    sup = await accounts.create_user(store, config, "sup", "0123456789ab", "supervisor")
    assert sup.department == config.supervisor_department
    assert accounts.actor_for(sup).role.value == "supervisor"


def test_a_bureau_gets_a_lead_and_named_clerks_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "f.db")
    for name, extra in (("zhao", ["--lead"]), ("qian", [])):
        code = run_cli(
            monkeypatch,
            ["users", "add", name, "--role", "staff", "--department", "zhzf", "--name", name,
             "--password-stdin", "--db", db, *extra],
            "a-long-enough-password\n",
        )  # fmt: skip
        assert code == 0
    out = capsys.readouterr().out
    assert (
        "created staff zhao (zhao, zhzf, lead)" in out and "created staff qian (qian, zhzf)" in out
    )
    code = run_cli(
        monkeypatch,
        ["users", "add", "sun", "--role", "supervisor", "--lead", "--password-stdin", "--db", db],
        "a-long-enough-password\n",
    )
    assert code == 2 and "只有承办单位工作人员可以是本单位负责人" in capsys.readouterr().err
    assert run_cli(monkeypatch, ["users", "lead", "qian", "--db", db]) == 0
    assert run_cli(monkeypatch, ["users", "lead", "zhao", "--off", "--db", db]) == 0
    assert "zhao is a clerk of zhzf" in capsys.readouterr().out
    run_cli(monkeypatch, ["users", "list", "--db", db])
    out = capsys.readouterr().out
    assert "qian\tstaff (lead)\tzhzf" in out and "zhao\tstaff\tzhzf" in out

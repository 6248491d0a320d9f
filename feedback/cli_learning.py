"""Commands for the model's learning: `feedback retrain`, `feedback model list / promote /
rollback`, `feedback import-history FILE.csv`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from feedback.cli import common, run, settings_from


def _progress() -> Any:
    """One line per training stage, rewritten in place on a terminal (long trainings)."""
    last = {"stage": ""}
    shown = [0.0]
    tty = sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == last["stage"] and done < total and now - shown[0] < 1:
            return
        last["stage"], shown[0] = stage, now
        line = f"训练中：{stage} {done}/{total}"
        print(("\r" + line + " " * 8) if tty else line, end="" if tty else "\n", file=sys.stderr)
        if tty and done >= total:
            print(file=sys.stderr)

    return progress


def _retrain(settings: Any, json_out: bool, who: str) -> int:
    from feedback import learning
    from feedback.runtime import open_service

    async def go() -> Any:
        async with open_service(settings, with_model=False) as service:
            found, upto = await learning.gather(service)
            print(
                f"标注：承办单位 {len(found['department'])} 条，问题类型 {len(found['issue_type'])} 条",
                flush=True,
            )
            return await service.in_thread(
                lambda: learning.retrain(
                    settings.models_dir, found, service.config, labels_upto=upto,
                    progress=_progress(), who=who,
                )
            )  # fmt: skip

    report = run(go)
    for line in report.lines():
        print(line)
    if json_out:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    return _retrain(settings_from(args), args.json, "feedback retrain")


def cmd_model(args: argparse.Namespace) -> int:
    from feedback import model_versions
    from feedback.errors import ValidationError

    root = settings_from(args).models_dir
    try:
        if args.action == "list":
            return _list(root, args.json)
        if args.action == "promote":
            if not args.version:
                print("error: 请给出要启用的版本名（见 feedback model list）", file=sys.stderr)
                return 2
            name = model_versions.promote_version(root, args.version, "feedback model promote")
            print(f"已启用 {name}；服务在几秒内换用，无需重启。")
            return 0
        name = model_versions.rollback(root, "feedback model rollback")
        print(f"已回退到 {name}；服务在几秒内换用，无需重启。")
        return 0
    except ValidationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


def _list(root: Any, as_json: bool) -> int:
    from dataclasses import asdict

    from feedback import model_versions

    found = model_versions.list_versions(root)
    if as_json:
        print(json.dumps([asdict(v) for v in found], ensure_ascii=False))
        return 0
    states = {
        "in use": "使用中",
        "promoted before": "曾启用",
        "refused": "未启用",
        "shipped": "初始",
    }
    for v in found:
        scores = "；".join(
            f"{t} 新 {s.get('new_score'):.3f} / 旧 {s.get('old_score'):.3f}（{s.get('holdout')} 条）"
            for t, s in v.scores.items()
            if s.get("new_score") is not None and s.get("old_score") is not None
        )
        print(f"{states.get(v.state, v.state)}\t{v.name}\t{scores}")
        if v.reason:
            print(f"\t{v.reason}")
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    from feedback import learning
    from feedback.models import Actor
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> Any:
        async with open_service(settings, with_model=False) as service:
            return await learning.import_history(
                service, args.file, Actor.system(f"import:{args.file}")
            )

    try:
        report = run(go)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    if report.taken and not args.no_retrain:
        return _retrain(settings, False, "feedback import-history")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retrain",
        help="retrain from the corpus plus the district's labels; promote only if better",
        description="Trains a candidate per target on the project's corpus and every label "
        "but the newest ones, compares it with the model in use on those newest labels (which "
        "neither learned from) with a paired bootstrap, promotes it when it is better beyond "
        "noise, and says why either way (also in the model history).",
    )
    common(p)
    p.add_argument("--json", action="store_true", help="also print the outcome as JSON")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("model", help="model versions: list, promote VERSION, rollback")
    common(p)
    p.add_argument("action", choices=("list", "promote", "rollback"))
    p.add_argument("version", nargs="?", help="the version to promote (from `model list`)")
    p.add_argument("--json", action="store_true", help="list: one JSON array")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser(
        "import-history",
        help="seed the labels from a district's past work orders (CSV), then retrain",
        description="CSV columns: text, department (code or name), optional title, "
        "issue_types (codes or names, |-joined; empty = none), time (ISO, district time). "
        "Prints the rows taken and each row refused with the reason.",
    )
    common(p)
    p.add_argument("file", help="the CSV file")
    p.add_argument("--no-retrain", action="store_true", help="only import the labels")
    p.set_defaults(func=cmd_import_history)

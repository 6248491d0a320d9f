"""`feedback notify …`: the outbox from the command line, as the supervisor's page
/staff/notices shows it — what waits per channel, the dead letters (given up on, with their
last error) and resending one — plus one round of sending now (after a gateway came back, or
from cron where no `feedback serve` runs the senders). Everything goes through the service."""

from __future__ import annotations

import argparse
import json
from typing import Any

from feedback.errors import NotFound

CHANNEL_LABELS = {"telegram": "Telegram", "email": "邮件", "sms": "短信"}


def register(sub: argparse._SubParsersAction) -> None:
    from feedback.cli import common

    notify = sub.add_parser(
        "notify", help="notices to citizens: what waits, dead letters, resend, send now"
    )
    commands = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")

    p = commands.add_parser(
        "list",
        help="how many notices wait per channel, and the dead letters (recipients masked)",
    )
    common(p)
    p.add_argument("--pending", action="store_true", help="list the waiting notices too")
    p.add_argument("--limit", type=int, default=100, help="rows of each list (default 100)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser(
        "resend", help="send a dead letter again from its first try (the channel works again)"
    )
    common(p)
    p.add_argument("id", type=int, nargs="+", help="the notice's id, as `notify list` shows it")
    p.set_defaults(func=cmd_resend)

    p = commands.add_parser(
        "send",
        help="one round of sending now on every configured channel (SMTP, SMS gateway), "
        "then exit; prints how many went out",
    )
    common(p)
    p.set_defaults(func=cmd_send)

    p = commands.add_parser(
        "templates",
        help="the SMS templates to register with the provider: each name, the id it is sent "
        "with (sms_template_ids), its wording and the events that use it",
    )
    common(p)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_templates)


def _operator() -> Any:
    from feedback.models import Actor, Role

    # The command line is the operator's, who may do what the supervisor's page does.
    return Actor(Role.ADMIN, id="cli", name="命令行")


def cmd_list(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> dict[str, Any]:
        async with open_service(settings, with_model=False) as service:
            outbox = await service.waiting_notices(_operator(), args.limit)
            dead = await service.dead_letters(_operator(), args.limit)
            return {**outbox, "dead": dead}

    found: dict[str, Any] = run(go)
    if not args.pending:
        found.pop("pending")
    if args.json:
        print(json.dumps(found, ensure_ascii=False, default=str))
        return 0
    counts = "，".join(f"{CHANNEL_LABELS.get(ch, ch)} {n}" for ch, n in found["waiting"].items())
    print(f"待发送：{counts}")
    if args.pending:
        print(f"\n待发送的通知（{len(found['pending'])}）：")
        for r in found["pending"]:
            print(_row(r, r.get("next_attempt_at") or "尽快"))
    print(
        f"\n发送失败的通知（{len(found['dead'])}）：" if found["dead"] else "\n没有发送失败的通知。"
    )
    for r in found["dead"]:
        print(_row(r, r.get("dead_at") or ""))
    return 0


def _row(r: dict[str, Any], when: str) -> str:
    error = str(r.get("last_error") or "").replace("\n", " ")[:120]
    return (f"{r['id']}\t{r['tracking_number']}\t{CHANNEL_LABELS.get(r['channel'], r['channel'])}"
            f"\t{r['recipient']}\t{r['label']}\t尝试{r['attempts']}次\t{when}\t{error}")  # fmt: skip


def cmd_resend(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> list[tuple[int, str]]:
        done = []
        async with open_service(settings, with_model=False) as service:
            for outbox_id in args.id:
                try:
                    await service.requeue_notice(_operator(), outbox_id)
                    done.append((outbox_id, ""))
                except NotFound as exc:
                    done.append((outbox_id, exc.message))
        return done

    results: list[tuple[int, str]] = run(go)
    for outbox_id, error in results:
        print(
            f"{outbox_id}: {error or '已重新排队，将按正常节奏发送（或运行 feedback notify send）'}"
        )
    return 1 if any(error for _, error in results) else 0


def cmd_send(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service
    from feedback.senders import dispatchers, settings_problem

    settings = settings_from(args)
    problem = settings_problem(settings)
    if problem:
        print(f"通知设置有误：{problem}")
        return 2

    async def go() -> dict[str, int]:
        async with open_service(settings, with_model=False) as service:
            found = dispatchers(service, settings)
            return {d.channel: await d.send_pending() for d in found}

    sent: dict[str, int] = run(go)
    if not sent:
        print("没有配置发送渠道（smtp_host、sms_url 或 sms_api）：通知留在待发送队列。")
        return 0
    print("已发送：" + "，".join(f"{CHANNEL_LABELS.get(ch, ch)} {n}" for ch, n in sent.items()))
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    from feedback import sms
    from feedback.cli import settings_from

    settings = settings_from(args)
    try:
        ids = sms.template_ids_of(settings.sms_template_ids)
    except ValueError as exc:
        print(f"sms_template_ids 有误：{exc}")
        return 2
    rows: list[dict[str, Any]] = [
        {"name": name, "id": ids.get(name, name), "set": name in ids, "text": found[0].text,
         "events": [t.key for t in found]}
        for name, found in sms.template_names().items()
    ]  # fmt: skip
    if args.json:
        print(json.dumps({"templates": rows}, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        sent_as = r["id"] if r["set"] else f"{r['id']}（未设置 sms_template_ids，按名称发送）"
        print(f"{r['name']} → {sent_as}\n  {r['text']}\n  事件：{'、'.join(r['events'])}")
    unset = sum(1 for r in rows if not r["set"])
    print(f"共 {len(rows)} 个模板，{len(rows) - unset} 个已设置服务商的模板 ID。")
    return 0

"""`feedback users …`: staff accounts from the command line (the first admin starts here)."""

from __future__ import annotations

import argparse
import getpass
import sys

from feedback import accounts


def register(sub: argparse._SubParsersAction) -> None:
    from feedback.cli import common

    users = sub.add_parser("users", help="manage staff accounts (add, list, disable, password)")
    commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    p = commands.add_parser("add", help="create a staff account")
    common(p)
    p.add_argument("username", help="login name: 3-32 lower-case letters, digits, . _ -")
    p.add_argument(
        "--role", required=True, choices=["staff", "supervisor", "admin"], help="what they may do"
    )
    p.add_argument("--department", help="department code (required for staff, e.g. zhzf)")
    p.add_argument("--name", help="display name, e.g. 张三")
    p.add_argument(
        "--lead",
        action="store_true",
        help="staff only: the bureau's lead (科室负责人), who assigns its reports to its clerks "
        "and keeps its canned replies",
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(func=cmd_add)

    p = commands.add_parser("lead", help="make a staff account its bureau's lead (or --off)")
    common(p)
    p.add_argument("username")
    p.add_argument("--off", action="store_true", help="a clerk again, no longer the lead")
    p.set_defaults(func=cmd_lead)

    p = commands.add_parser("list", help="list staff accounts")
    common(p)
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("disable", help="disable an account (it can no longer log in)")
    common(p)
    p.add_argument("username")
    p.set_defaults(func=cmd_disable)

    p = commands.add_parser("enable", help="enable a disabled account again")
    common(p)
    p.add_argument("username")
    p.set_defaults(func=cmd_enable)

    p = commands.add_parser("password", help="set a new password for an account")
    common(p)
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="read it from standard input")
    p.set_defaults(func=cmd_password)


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 / password: ")
    second = getpass.getpass("再次输入 / again: ")
    if first != second:
        from feedback.errors import ValidationError

        raise ValidationError("两次输入的密码不一致。", field="password")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            # Check the account before asking for a password nobody will use.
            accounts.check_new_user(
                service.config, args.username, args.role, args.department, args.name
            )
            password = _read_password(args.password_stdin)
            user = await accounts.create_user(
                service.store,
                service.config,
                args.username,
                password,
                args.role,
                args.department,
                args.name,
                lead=args.lead,
            )
        lead = ", lead" if user.bureau_lead else ""
        print(f"created {user.role} {user.username} ({user.display_name}, {user.department}{lead})")
        return 0

    return int(run(go))


def cmd_list(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            users = await service.store.list_users()
        for u in users:
            state = "active" if u.active else "disabled"
            role = f"{u.role} (lead)" if u.bureau_lead else u.role
            print(f"{u.username}\t{role}\t{u.department or '-'}\t{u.display_name}\t{state}")
        if not users:
            print("no accounts yet; create one with `feedback users add NAME --role admin`")
        return 0

    return int(run(go))


def _toggle(args: argparse.Namespace, active: bool) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            user = await accounts.set_active(service.store, args.username, active)
        print(f"{user.username} {'enabled' if active else 'disabled'}")
        return 0

    return int(run(go))


def cmd_lead(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            user = await accounts.set_lead(service.store, args.username, not args.off)
        print(f"{user.username} {'is the lead of' if user.bureau_lead else 'is a clerk of'} "
              f"{user.department}")  # fmt: skip
        return 0

    return int(run(go))


def cmd_disable(args: argparse.Namespace) -> int:
    return _toggle(args, False)


def cmd_enable(args: argparse.Namespace) -> int:
    return _toggle(args, True)


def cmd_password(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            password = _read_password(args.password_stdin)
            user = await accounts.set_password(service.store, args.username, password)
        print(f"password of {user.username} changed")
        return 0

    return int(run(go))

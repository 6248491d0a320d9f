"""The clerk's desk pages beside the report page (issue 18: 12): a bureau's canned replies
(常用答复, kept by its lead) and the named clerk accounts (supervisors). Every rule is the
service's (feedback.permissions); these pages only show what it allows."""

from __future__ import annotations

from aiohttp import web

from feedback import permissions
from feedback.errors import PermissionDenied, ValidationError
from web import limits
from web.auth import require_staff
from web.citizen import text_value
from web.keys import NavItem, config_key, nav_key, service_key
from web.render import render
from web.sessions import flash

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    app[nav_key].append(NavItem("/staff/replies", "常用答复", "staff"))
    app[nav_key].append(NavItem("/staff/accounts", "工作人员账号", "supervisor"))
    app.add_routes(routes)


# -- canned replies ----------------------------------------------------------------------


async def _replies_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    _, actor = await require_staff(request)
    service = request.app[service_key]
    config = request.app[config_key]
    department = _department(request, actor.department)
    if department is None or not permissions.may_use_replies(actor, department):
        raise PermissionDenied("常用答复属于承办单位；您的账号不属于任何承办单位。")
    return await render(
        request,
        "staff/replies.html",
        {
            "title": "常用答复",
            "department": department,
            "department_name": config.department_name(department),
            # Supervisors and the administrator look at any bureau's list.
            "departments": config.departments if permissions.is_supervisor(actor) else [],
            "replies": await service.canned_replies(actor, department),
            "may_keep": permissions.may_keep_replies(actor, department),
            "values": values or {},
            "errors": errors or {},
        },
        status=status,
    )


def _department(request: web.Request, own: str | None, asked: str = "") -> str | None:
    """The bureau whose list is shown: the one asked for when it exists, else one's own (a
    supervisor's: 司法局's); the service decides whether the actor may see it."""
    config = request.app[config_key]
    wanted = asked or request.query.get("department", "")
    return wanted if wanted and config.has_department(wanted) else own


@routes.get("/staff/replies")
async def replies(request: web.Request) -> web.Response:
    return await _replies_page(request)


@routes.post("/staff/replies")
async def add_reply(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    form = await request.post()
    title, body = text_value(form, "title", 200), text_value(form, "body")
    department = _department(request, actor.department, text_value(form, "department", 40))
    try:
        await request.app[service_key].add_canned_reply(actor, title, body, department)
    except ValidationError as exc:
        return await _replies_page(
            request, values={"title": title, "body": body},
            errors={exc.field or "title": exc.message}, status=400,
        )  # fmt: skip
    await flash(request, f"已添加常用答复“{title.strip()}”。")
    raise web.HTTPSeeOther(f"/staff/replies?department={department or ''}")


@routes.post("/staff/replies/{id:\\d+}/delete")
async def delete_reply(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    await request.post()
    service = request.app[service_key]
    reply = await service.canned_reply(
        actor, limits.row_id(request.match_info["id"], "没有这条常用答复。")
    )
    await service.delete_canned_reply(actor, reply.id)
    await flash(request, "已删除该常用答复。")
    raise web.HTTPSeeOther(f"/staff/replies?department={reply.department}")


# -- named clerk accounts (supervisors) --------------------------------------------------


async def _accounts_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    _, actor = await require_staff(request)
    service = request.app[service_key]
    config = request.app[config_key]
    users = await service.staff_accounts(actor)
    by_bureau = [
        (d, [u for u in users if u.role == "staff" and u.department == d.code])
        for d in config.departments
    ]
    return await render(
        request,
        "staff/accounts.html",
        {
            "title": "工作人员账号",
            "by_bureau": by_bureau,
            "others": [u for u in users if u.role != "staff"],
            "departments": config.departments,
            "values": values or {},
            "errors": errors or {},
        },
        status=status,
    )


@routes.get("/staff/accounts")
async def accounts_page(request: web.Request) -> web.Response:
    return await _accounts_page(request)


@routes.post("/staff/accounts")
async def add_account(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    form = await request.post()
    values = {k: text_value(form, k, 200) for k in ("username", "name", "department", "lead")}
    password = text_value(form, "password", 300)
    try:
        if password != text_value(form, "password2", 300):
            raise ValidationError("两次输入的密码不一致。", field="password")
        user = await request.app[service_key].create_clerk(
            actor, values["username"], password, values["department"], values["name"],
            lead=values["lead"] == "1",
        )  # fmt: skip
    except ValidationError as exc:
        return await _accounts_page(
            request, values=values, errors={exc.field or "username": exc.message}, status=400
        )
    await flash(request, f"已创建账号 {user.username}（{user.display_name}）。")
    raise web.HTTPSeeOther("/staff/accounts")


@routes.post("/staff/accounts/{username}/{change:(enable|disable|lead|clerk)}")
async def change_account(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    await request.post()
    service = request.app[service_key]
    name, change = request.match_info["username"], request.match_info["change"]
    try:
        if change in ("enable", "disable"):
            user = await service.set_account_active(actor, name, change == "enable")
            message = f"已{'启用' if user.active else '停用'}账号 {user.username}。"
        else:
            user = await service.set_bureau_lead(actor, name, change == "lead")
            message = f"{user.username} {'已设为本单位负责人' if user.bureau_lead else '已改为普通工作人员'}。"
    except ValidationError as exc:
        return await _accounts_page(request, errors={"list": exc.message}, status=400)
    await flash(request, message)
    raise web.HTTPSeeOther("/staff/accounts")

"""Staff accounts: creating them, checking passwords, and slowing down people who guess.

Passwords are stored only as argon2id hashes (feedback.secrets). Each login attempt first
reserves a slot under the per-username and per-address limits (feedback.ratelimit, in the
database, so they hold across processes, restarts and a burst of concurrent requests); a
right password gives its slot back. Every checked attempt is also kept in `login_attempts`
(migration 0003) for the audit.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import secrets as token_source
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from feedback import secrets
from feedback.config import Config
from feedback.errors import PermissionDenied, ValidationError
from feedback.models import Actor, Role
from feedback.ratelimit import RateLimiter, Rule, TooManyRequests, stamp
from feedback.store import Store, WriteTx
from feedback.store import schema as t
from feedback.store.base import User
from feedback.store.sql import Query, param

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 200
DISPLAY_NAME_MAX = 50
STAFF_ROLES = (Role.STAFF, Role.SUPERVISOR, Role.ADMIN)
ROLE_LABELS = {
    Role.STAFF: "承办单位工作人员",
    Role.SUPERVISOR: "监督人员",
    Role.ADMIN: "系统管理员",
}

# Failed logins within the window before further attempts are refused. The per-address limit
# is higher because a whole office may share one address behind its gateway.
THROTTLE_WINDOW = timedelta(minutes=15)
USERNAME_FAILURES = 5
ADDRESS_FAILURES = 20

BAD_LOGIN = "用户名或密码不正确。"
THROTTLED = "登录失败次数过多，请 {minutes} 分钟后再试。"
LOGIN_RULES = (
    Rule("login:username", USERNAME_FAILURES, THROTTLE_WINDOW),
    Rule("login:address", ADDRESS_FAILURES, THROTTLE_WINDOW),
)

# A staff login lasts a working day; after that the staff member logs in again.
SESSION_LIFETIME = timedelta(hours=10)

# Verified against when the username does not exist, so a miss costs as long as a wrong
# password and usernames cannot be discovered by timing.
_DUMMY_HASH = secrets.hash_secret("no-such-user-password")

SESSIONS, ATTEMPTS = t.staff_sessions, t.login_attempts
SESSIONS_EXPIRED = Query(sa.delete(SESSIONS).where(SESSIONS.c.expires_at < param("now")))
SESSION_START = Query(sa.insert(SESSIONS).values(
    token_hash=param("token_hash"), username=param("username"), created_at=param("created_at"),
    expires_at=param("expires_at"),
))  # fmt: skip
SESSION_USER = Query(
    sa.select(SESSIONS.c.username).where(
        SESSIONS.c.token_hash == param("token_hash"), SESSIONS.c.expires_at > param("now")
    )
)
SESSION_END = Query(sa.delete(SESSIONS).where(SESSIONS.c.token_hash == param("token_hash")))
SESSIONS_OF = Query(sa.delete(SESSIONS).where(SESSIONS.c.username == param("username")))
ATTEMPT = Query(sa.insert(ATTEMPTS).values(
    username=param("username"), address=param("address"), at=param("at"),
    success=param("success"),
))  # fmt: skip


@dataclass(frozen=True)
class NewUser:
    username: str
    role: Role
    department: str | None
    display_name: str


def check_new_user(
    config: Config, username: str, role: str, department: str | None, display_name: str | None
) -> NewUser:
    """Validate an account before it is created; messages in Chinese, with the field."""
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError(
            "用户名应为 3–32 位小写字母、数字、点、下划线或连字符，以字母或数字开头。",
            field="username",
        )
    try:
        r = Role(role)
    except ValueError:
        r = Role.CITIZEN
    if r not in STAFF_ROLES:
        raise ValidationError("角色只能是 staff、supervisor 或 admin。", field="role")
    dept = (department or "").strip() or None
    codes = "、".join(config.department_codes)
    if dept is not None and not config.has_department(dept):
        # A typo is told as a typo, with the codes to choose from.
        raise ValidationError(f"未知的单位代码：{dept}（可用：{codes}）。", field="department")
    if r is Role.STAFF:
        if not dept:
            raise ValidationError(
                f"承办单位工作人员必须指定单位代码（{codes}）。", field="department"
            )
    else:
        # Supervisors and admins belong to the supervising body unless told otherwise.
        dept = dept or config.supervisor_department
    shown = " ".join((display_name or "").split())
    if len(shown) > DISPLAY_NAME_MAX:
        raise ValidationError(f"显示名不能超过 {DISPLAY_NAME_MAX} 个字。", field="name")
    return NewUser(name, r, dept, shown or name)


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError(f"密码至少需要 {PASSWORD_MIN} 个字符。", field="password")
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"密码不能超过 {PASSWORD_MAX} 个字符。", field="password")
    return password


async def create_user(
    store: Store,
    config: Config,
    username: str,
    password: str,
    role: str,
    department: str | None = None,
    display_name: str | None = None,
    *,
    lead: bool = False,
) -> User:
    """``lead``: the bureau's lead (科室负责人), who assigns its reports to its clerks."""
    new = check_new_user(config, username, role, department, display_name)
    if lead and new.role is not Role.STAFF:
        raise ValidationError("只有承办单位工作人员可以是本单位负责人。", field="lead")
    check_password(password)
    if await store.get_user(new.username) is not None:
        raise ValidationError(f"用户名 {new.username} 已存在。", field="username")
    hashed = await asyncio.to_thread(secrets.hash_secret, password)
    user = User(
        id=None,
        username=new.username,
        password_hash=hashed,
        role=new.role.value,
        department=new.department,
        display_name=new.display_name,
        active=True,
        created_at=datetime.now(UTC),
        bureau_lead=lead,
    )
    async with store.transaction() as tx:
        user.id = await tx.insert_user(user)
    return user


async def set_active(store: Store, username: str, active: bool) -> User:
    """Enable or disable an account; disabling ends its sessions at once."""
    user = await store.get_user((username or "").strip().lower())
    if user is None:
        raise ValidationError(f"没有用户 {username}。", field="username")
    user.active = active
    async with store.transaction() as tx:
        await tx.update_user(user)
        if not active:
            await _end_all(tx, user.username)
    return user


async def set_lead(store: Store, username: str, lead: bool) -> User:
    """Make a bureau's staff account its lead (科室负责人) or a clerk again (a session reads
    the account on every request: it applies at once)."""
    user = await store.get_user((username or "").strip().lower())
    if user is None:
        raise ValidationError(f"没有用户 {username}。", field="username")
    if user.role != Role.STAFF.value:
        raise ValidationError("只有承办单位工作人员可以是本单位负责人。", field="username")
    user.bureau_lead = lead
    async with store.transaction() as tx:
        await tx.update_user(user)
    return user


async def set_password(store: Store, username: str, password: str) -> User:
    user = await store.get_user((username or "").strip().lower())
    if user is None:
        raise ValidationError(f"没有用户 {username}。", field="username")
    check_password(password)
    user.password_hash = await asyncio.to_thread(secrets.hash_secret, password)
    async with store.transaction() as tx:
        await tx.update_user(user)
        # Whoever knew the old password (or holds a copied cookie) is logged out.
        await _end_all(tx, user.username)
    return user


# -- sessions --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def start_session(store: Store, user: User, now: datetime | None = None) -> str:
    """A new server-side session for ``user``; the token goes in the (encrypted) cookie."""
    now = now or datetime.now(UTC)
    token = token_source.token_urlsafe(32)
    async with store.transaction() as tx:
        await tx.execute(SESSIONS_EXPIRED, {"now": stamp(now)})
        await tx.execute(SESSION_START, {
            "token_hash": _token_hash(token), "username": user.username,
            "created_at": stamp(now), "expires_at": stamp(now + SESSION_LIFETIME),
        })  # fmt: skip
    return token


async def session_user(store: Store, token: str, now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (ended, expired, unknown, disabled)."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    rows = await store.fetch(SESSION_USER, {"token_hash": _token_hash(token), "now": stamp(now)})
    if not rows:
        return None
    user = await store.get_user(rows[0]["username"])
    return user if user is not None and user.active else None


async def end_session(store: Store, token: str) -> None:
    """Logout: this session ends on the server, so a copy of the cookie is worth nothing."""
    if not token:
        return
    async with store.transaction() as tx:
        await tx.execute(SESSION_END, {"token_hash": _token_hash(token)})


async def end_sessions(store: Store, username: str) -> None:
    """End every session of ``username``."""
    async with store.transaction() as tx:
        await _end_all(tx, username)


async def _end_all(tx: WriteTx, username: str) -> None:
    await tx.execute(SESSIONS_OF, {"username": username})


def actor_for(user: User) -> Actor:
    """The service's view of a logged-in staff member."""
    return Actor(
        role=Role(user.role),
        id=user.username,
        department=user.department,
        name=user.display_name or user.username,
        lead=user.bureau_lead and user.role == Role.STAFF.value,
    )


async def _record(store: Store, username: str, address: str, now: datetime, ok: bool) -> None:
    async with store.transaction() as tx:
        await tx.execute(
            ATTEMPT,
            {"username": username, "address": address, "at": now.isoformat(), "success": ok},
        )


async def authenticate(
    store: Store, username: str, password: str, address: str, *, now: datetime | None = None
) -> User:
    """The active user with this password, or an error that does not say which part was wrong.

    ``address`` is the client's address as the app sees it behind its trusted proxies. The
    attempt is reserved before the password is checked, so once the limit is reached the
    request gets TooManyRequests (429, Retry-After) without any check: a guesser learns nothing
    more, not even from a right password, however many guesses arrive at once.
    """
    now = now or datetime.now(UTC)
    name = (username or "").strip().lower()[:64]
    address = address or "unknown"
    limiter = RateLimiter(store)
    try:
        ticket = await limiter.acquire([(LOGIN_RULES[0], name), (LOGIN_RULES[1], address)], now)
    except TooManyRequests as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        raise TooManyRequests(exc.retry_after, THROTTLED.format(minutes=minutes)) from None
    user = await store.get_user(name) if name else None
    stored = user.password_hash if user else _DUMMY_HASH
    ok = await asyncio.to_thread(secrets.verify_secret, stored, password or "")
    ok = ok and user is not None and user.active
    await _record(store, name, address, now, ok)
    if not ok or user is None:
        raise PermissionDenied(BAD_LOGIN, field="password")
    await limiter.release(ticket)  # a right password does not count against anyone
    return user


class Accounts:
    """Staff logins and sessions over one store, as the service offers them to web/
    (`service.accounts`): the web never holds the store."""

    def __init__(self, store: Store):
        self._store = store

    async def authenticate(
        self, username: str, password: str, address: str, *, now: datetime | None = None
    ) -> User:
        return await authenticate(self._store, username, password, address, now=now)

    async def start_session(self, user: User, now: datetime | None = None) -> str:
        return await start_session(self._store, user, now)

    async def session_user(self, token: str, now: datetime | None = None) -> User | None:
        return await session_user(self._store, token, now)

    async def end_session(self, token: str) -> None:
        await end_session(self._store, token)

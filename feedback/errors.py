"""Domain errors. Each carries a user-facing Chinese message; web and bot show it as it is."""

from __future__ import annotations


class FeedbackError(Exception):
    """Base of every error the service raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class ValidationError(FeedbackError):
    """Input is missing, too long or not one of the allowed values. ``errors`` holds every
    field's message when a whole form was checked at once (the first one is ``message``)."""

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: dict[str, str] | None = None,
    ):
        super().__init__(message, field=field, code=code)
        self.errors = errors or ({field: message} if field else {})


class NotFound(FeedbackError):
    """No such report — or the follow-up code is wrong: the two are never told apart."""

    code = "not_found"

    def __init__(self, message: str = "未找到该诉求，请核对受理编号和查询码。", **kw: object):
        super().__init__(message, **kw)  # type: ignore[arg-type]


class PermissionDenied(FeedbackError):
    code = "forbidden"

    def __init__(self, message: str = "您无权执行此操作。", **kw: object):
        super().__init__(message, **kw)  # type: ignore[arg-type]


class InvalidTransition(FeedbackError):
    """The action is not allowed in the report's current state."""

    code = "invalid_transition"


class RateLimited(FeedbackError):
    code = "rate_limited"


class ConfigError(FeedbackError):
    code = "config"


class StoreError(FeedbackError):
    code = "store"

"""The district's configuration: taxonomy, clocks, routing thresholds, incentive points.

The shipped ``default.toml`` describes the reference district; an operator's file given with
``--config`` replaces tables of it. Every setting is declared once, here, with its meaning.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from feedback.errors import ConfigError


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    remit: str
    keywords: tuple[str, ...] = ()
    # other names citizens give the bureau in the 涉及单位 field (人社局, 环保局 …)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueType:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class RoutingSettings:
    # route automatically at the classifier's probability that was right this often on its
    # held-out validation data (the model's own table); confident_probability and min_margin
    # apply only to a model without such a table
    target_accuracy: float = 0.95
    confident_probability: float = 0.55
    min_margin: float = 0.15
    assist_probability: float = 0.2
    issue_type_probability: float = 0.5
    duplicate_similarity: float = 0.8
    duplicate_days: int = 30


@dataclass(frozen=True)
class Clocks:
    """Work-order time limits; working days unless the name ends in ``_days``."""

    sign_for: int = 1
    answer_complaint: int = 15
    answer_consultation: int = 5
    extension_max: int = 15
    send_back_window: int = 2
    rating_window_days: int = 30
    review_request_days: int = 30
    warn_before: int = 1


@dataclass(frozen=True)
class CalendarYear:
    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True)
class Config:
    district_name: str
    tracking_prefix: str
    timezone: str
    supervisor_department: str
    departments: tuple[Department, ...]
    issue_types: tuple[IssueType, ...]
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    clocks: Clocks = field(default_factory=Clocks)
    incentive_points: dict[str, int] = field(default_factory=dict)
    calendar_extra: dict[int, CalendarYear] = field(default_factory=dict)

    def department(self, code: str) -> Department:
        for d in self.departments:
            if d.code == code:
                return d
        raise KeyError(code)

    def has_department(self, code: str) -> bool:
        return any(d.code == code for d in self.departments)

    def department_name(self, code: str | None) -> str:
        if code is None:
            return "待分办"
        try:
            return self.department(code).name
        except KeyError:
            return code

    @property
    def department_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.departments)

    @property
    def issue_type_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.issue_types)

    def issue_type_name(self, code: str) -> str:
        for t in self.issue_types:
            if t.code == code:
                return t.name
        return code


def _default_text() -> str:
    return resources.files("feedback").joinpath("default.toml").read_text(encoding="utf-8")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _dataclass_from(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"[{where}] has unknown settings: {', '.join(sorted(unknown))}")
    try:
        return cls(**table)
    except TypeError as exc:  # pragma: no cover - wrong types surface here
        raise ConfigError(f"[{where}]: {exc}") from exc


def _calendar(table: dict[str, Any]) -> dict[int, CalendarYear]:
    years: dict[int, CalendarYear] = {}
    for year, spec in (table.get("extra") or {}).items():
        try:
            years[int(year)] = CalendarYear(
                holidays=frozenset(date.fromisoformat(d) for d in spec.get("holidays", [])),
                workdays=frozenset(date.fromisoformat(d) for d in spec.get("workdays", [])),
            )
        except (ValueError, AttributeError) as exc:
            raise ConfigError(f"[calendar.extra.{year}]: {exc}") from exc
    return years


def parse_config(data: dict[str, Any]) -> Config:
    district = data.get("district", {})
    try:
        departments = tuple(
            Department(
                code=d["code"],
                name=d["name"],
                remit=d.get("remit", ""),
                keywords=tuple(d.get("keywords", ())),
                aliases=tuple(d.get("aliases", ())),
            )
            for d in data["departments"]
        )
        issue_types = tuple(
            IssueType(code=t["code"], name=t["name"], description=t.get("description", ""))
            for t in data["issue_types"]
        )
    except KeyError as exc:
        raise ConfigError(f"a department or issue type lacks {exc}") from exc
    codes = [d.code for d in departments]
    if len(set(codes)) != len(codes):
        raise ConfigError("department codes must be unique")
    supervisor = district.get("supervisor_department", "sfj")
    if supervisor not in codes:
        raise ConfigError(f"supervisor_department {supervisor!r} is not a configured department")
    points = {str(k): int(v) for k, v in data.get("incentives", {}).items()}
    return Config(
        district_name=district.get("name", ""),
        tracking_prefix=district.get("tracking_prefix", "FB"),
        timezone=district.get("timezone", "Asia/Shanghai"),
        supervisor_department=supervisor,
        departments=departments,
        issue_types=issue_types,
        routing=_dataclass_from(RoutingSettings, data.get("routing", {}), "routing"),
        clocks=_dataclass_from(Clocks, data.get("clocks", {}), "clocks"),
        incentive_points=points,
        calendar_extra=_calendar(data.get("calendar", {})),
    )


def load_config(path: str | Path | None = None) -> Config:
    """The shipped configuration, with the operator's file (if any) laid over it."""
    data = tomllib.loads(_default_text())
    if path is not None:
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc
        data = _merge(data, override)
    return parse_config(data)

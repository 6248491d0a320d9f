"""Queries written once as SQLAlchemy Core (feedback.store.sql) run the same on both stores:
parameters by name, lists, LIKE with its escape, upserts written per dialect, FOR UPDATE
where PostgreSQL needs it, and a statement compiled once however often it runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from feedback.store import Store
from feedback.store import schema as t
from feedback.store.portable import _like
from feedback.store.sql import Query, cached, insert, param

STATE = t.bot_state
PUT = Query(
    lambda d: (
        insert(d, STATE)
        .values(scope=param("scope"), key=param("key"), value=param("value"), updated_at="now")
        .on_conflict_do_update(
            index_elements=[STATE.c.scope, STATE.c.key], set_={"value": param("again")}
        )
    )
)
ALL = Query(sa.select(STATE.c.key, STATE.c.value).order_by(STATE.c.key))
KEYS_IN = Query(
    sa.select(STATE.c.key)
    .where(STATE.c.scope == param("scope"), STATE.c.key.in_(param("keys", expanding=True)))
    .order_by(STATE.c.key)
)
KEYS_NOT_IN = Query(sa.select(STATE.c.key).where(STATE.c.key.not_in(param("keys", expanding=True))))
LIKE = Query(
    sa.select(STATE.c.key)
    .where(STATE.c.value.like(param("pattern"), escape="\\"))
    .order_by(STATE.c.key)
)


async def put(store: Store, key: str, value: str) -> None:
    async with store.transaction() as tx:
        await tx.execute(PUT, {"scope": "s", "key": key, "value": value, "again": value})


async def test_named_parameters_lists_and_upserts_on_both_stores(store: Store) -> None:
    for key, value in (("a", "1"), ("b", "50%_off"), ("c", "50 off"), ("a", "2")):
        await put(store, key, value)
    rows = await store.fetch(ALL, {})
    assert [(r["key"], r["value"]) for r in rows] == [("a", "2"), ("b", "50%_off"), ("c", "50 off")]
    found = await store.fetch(KEYS_IN, {"scope": "s", "keys": ["c", "a", "zz"]})
    assert [r["key"] for r in found] == ["a", "c"]
    assert await store.fetch(KEYS_IN, {"scope": "s", "keys": []}) == []  # IN () matches nothing
    # The pattern's own % and _ are taken literally on both (ESCAPE '\').
    assert [r["key"] for r in await store.fetch(LIKE, {"pattern": _like("50%_")})] == ["b"]


def test_not_in_an_empty_list_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="NOT IN"):
        KEYS_NOT_IN.render("sqlite", {"keys": []})
    assert KEYS_NOT_IN.render("sqlite", {"keys": [1, 2]})[1] == (1, 2)


def test_a_missing_parameter_is_an_error_not_a_null() -> None:
    with pytest.raises(KeyError, match="scope"):
        KEYS_IN.render("postgresql", {"keys": ["a"]})
    with pytest.raises(TypeError):
        KEYS_IN.render("sqlite", ("s", ["a"]))


def test_each_dialect_gets_its_own_sql_compiled_once() -> None:
    lock = Query(sa.select(STATE.c.key).where(STATE.c.scope == param("scope")).with_for_update())
    assert "FOR UPDATE" in lock.render("postgresql", {"scope": "x"})[0]
    assert "FOR UPDATE" not in lock.render("sqlite", {"scope": "x"})[0]  # one writer already
    first = lock.compiled("sqlite")
    assert lock.compiled("sqlite") is first
    sql, values = PUT.render("postgresql", {"scope": "s", "key": "k", "value": "v", "again": "w"})
    assert "ON CONFLICT (scope, key) DO UPDATE" in sql and values == ("s", "k", "v", "now", "w")
    assert cached(sa_select_all_build, 1) is cached(sa_select_all_build, 1)


def sa_select_all_build(n: int) -> sa.Select[tuple[str]]:
    return sa.select(STATE.c.key).limit(n)

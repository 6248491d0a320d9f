"""Column types that mean the same on SQLite and PostgreSQL, used by the table definitions
(`feedback.store.schema`) and by the migrations (`feedback/store/migrations/versions/`).

They reproduce the schema the numbered SQL files made before 0.2, byte for byte in each
dialect's catalogue, so that a database created then and one created now are the same. The
migrations import them: never change what a name renders; add a new name instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# A row id or a reference to one: BIGINT on PostgreSQL; exactly INTEGER on SQLite, where an
# INTEGER PRIMARY KEY is the rowid.
Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A point in time the stores hand over as datetimes: timestamptz on PostgreSQL, ISO-8601 UTC
# text on SQLite (text order is time order there).
Moment = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")

# A yes/no: BOOLEAN on PostgreSQL, 0/1 INTEGER on SQLite.
Flag = sa.Integer().with_variant(sa.Boolean(), "postgresql")

# JSON stays text on both, so the record's hashed content comes back byte for byte as it went
# in (jsonb would reorder keys and reformat numbers).
Json = sa.Text()


def partial(where: str) -> dict[str, Any]:
    """Keyword arguments that make an index partial on both dialects (same SQL predicate)."""
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


def default(sql: str) -> sa.TextClause:
    """A server default written as SQL (``default("0")`` → ``DEFAULT 0``, not ``'0'``)."""
    return sa.text(sql)


TRUE = sa.true()
FALSE = sa.false()

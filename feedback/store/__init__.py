"""Stores: where reports and their record live. Chosen by a database URL or a file path."""

from __future__ import annotations

from feedback.store.base import Chain, Correction, ReportFilter, Store, User, WriteTx

__all__ = ["Chain", "Correction", "ReportFilter", "Store", "User", "WriteTx", "open_store"]


def open_store(url: str) -> Store:
    """A store for ``url``: ``postgresql://…`` for PostgreSQL, else a SQLite file path or
    ``sqlite:///path``. The store still has to be opened (``await store.open()``)."""
    if url.startswith(("postgresql://", "postgres://")):
        from feedback.store.postgres import PostgresStore

        return PostgresStore(url)
    from feedback.store.sqlite import SQLiteStore

    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return SQLiteStore(path)

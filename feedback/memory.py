"""Giving freed heap memory back to the system (issue 14: the server's RSS, flat under load)."""

from __future__ import annotations

import ctypes
import ctypes.util


def give_back_freed_memory() -> None:
    """Return to the system what a large piece of work freed (a model load, a hot-issue
    grouping of thousands of reports): glibc keeps freed heap memory for reuse, tens of MB the
    process would otherwise hold for ever. Nothing on other C libraries."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return
    if trim is not None:
        trim(0)

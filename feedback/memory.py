"""Giving freed heap memory back to the system (issue 14: the server's RSS, flat under load)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from typing import Any


@functools.cache
def _malloc_trim() -> Callable[[int], Any] | None:
    # find_library runs `ldconfig -p` each time it is called: once per process.
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def give_back_freed_memory() -> None:
    """Return to the system what a large piece of work freed (a model load, a hot-issue
    grouping of thousands of reports): glibc keeps freed heap memory for reuse, tens of MB the
    process would otherwise hold for ever. Nothing on other C libraries. ~10 ms: call it from a
    worker thread, not the event loop."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)

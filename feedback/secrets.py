"""Tracking numbers and follow-up codes.

The follow-up code is the anonymous citizen's only key: 100 bits from the OS's CSPRNG, shown
once, stored only as an argon2id hash. Hashing is slow on purpose; callers run it in a thread.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# No 0/O, 1/I/L, U: codes are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 5
GROUP_LEN = 4  # 20 symbols of log2(30) = 4.9 bits -> 98 bits

# OWASP's argon2id minimum (19 MiB, t=2): ~20 ms here, affordable for every submission.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

TRACKING_RE = re.compile(r"^[A-Z]{1,6}-\d{4}-\d{6,}$")


def format_tracking_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:06d}"


def normalise_tracking_number(value: str) -> str:
    return value.strip().upper().replace("—", "-").replace("－", "-")


def new_follow_up_code() -> str:
    symbols = [secrets.choice(ALPHABET) for _ in range(CODE_GROUPS * GROUP_LEN)]
    groups = ["".join(symbols[i : i + GROUP_LEN]) for i in range(0, len(symbols), GROUP_LEN)]
    return "-".join(groups)


def normalise_code(value: str) -> str:
    """Accept what people type: lower case, spaces, missing or full-width dashes. Anything
    outside ASCII letters and digits cannot be part of a code and is dropped (this also keeps
    undecodable bytes from a hostile header away from the hash)."""
    cleaned = re.sub(r"[^0-9A-Za-z]", "", value or "").upper()
    return "-".join(cleaned[i : i + GROUP_LEN] for i in range(0, len(cleaned), GROUP_LEN))


def hash_secret(value: str) -> str:
    return _hasher.hash(value)


def verify_secret(stored_hash: str, value: str) -> bool:
    try:
        return _hasher.verify(stored_hash, value)
    except (VerificationError, InvalidHashError):
        return False


def hash_code(code: str) -> str:
    return hash_secret(normalise_code(code))


def verify_code(stored_hash: str, code: str) -> bool:
    return verify_secret(stored_hash, normalise_code(code))


# A hash to verify against when the tracking number does not exist, so a miss costs the same
# time as a wrong code (no timing oracle).
DUMMY_HASH = _hasher.hash("not-a-real-code")

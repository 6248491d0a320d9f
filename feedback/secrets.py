"""Tracking numbers and follow-up codes.

The follow-up code is the anonymous citizen's only key: 98 bits from the OS's CSPRNG, shown
once, stored only as an HMAC-SHA256 under a server key (`CodeHasher`). A random secret that long
needs no key stretching: nobody can try 2**98 codes, and without the key a stolen database does
not let anyone test guesses offline. Codes issued before (argon2id hashes) keep verifying and
are re-hashed on their next successful lookup (FeedbackService.verified_report). Staff
passwords are chosen by people and stay argon2id (`hash_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import unicodedata
from datetime import datetime
from pathlib import Path

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


# Dashes people type or paste instead of "-": hyphen, non-breaking hyphen, figure dash, en and
# em dash, horizontal bar, minus sign, small and full-width hyphen-minus (an IME's default).
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-")
)


# A number typed without its dashes or with other separators ("zc2026000123",
# "ZC 2026 000123", "ZC_2026_000123", "ZC·2026·000123"): prefix letters, a 4-digit year, the sequence.
_SEPARATORS = re.compile(r"[\s_.\u00b7\u30fb/\\-]+")
_UNDASHED = re.compile(r"^([A-Z]{1,6})(\d{4})(\d{6,})$")


def normalise_tracking_number(value: str) -> str:
    """What people type for a number: full-width letters and digits (NFKC), any dash, lower
    case, spaces around it; and the same number with its dashes left out or replaced by
    spaces, underscores or dots, as people copy it from an SMS or read it off a receipt."""
    number = unicodedata.normalize("NFKC", value).translate(_DASHES).strip().upper()
    undashed = _UNDASHED.match(_SEPARATORS.sub("", number))
    if undashed and not TRACKING_RE.match(number):
        return format_tracking_number(undashed[1], int(undashed[2]), int(undashed[3]))
    return number


def new_follow_up_code() -> str:
    # One uniform draw below 30**20, written in base 30: the same distribution as 20 separate
    # `secrets.choice` calls, one read of the system's randomness instead of 20.
    n = secrets.randbelow(len(ALPHABET) ** (CODE_GROUPS * GROUP_LEN))
    symbols = []
    for _ in range(CODE_GROUPS * GROUP_LEN):
        n, digit = divmod(n, len(ALPHABET))
        symbols.append(ALPHABET[digit])
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


HMAC_PREFIX = "hmac-sha256$"
KEY_FILE = "code.key"


class CodeHasher:
    """Follow-up codes under one server key: microseconds per hash, no thread needed."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the follow-up code key is too short")
        self._key = key
        self.dummy = self.hash("not-a-real-code")

    def hash(self, code: str) -> str:
        mac = hmac.new(self._key, normalise_code(code).encode("ascii"), hashlib.sha256)
        return HMAC_PREFIX + mac.hexdigest()

    def verify(self, stored_hash: str, code: str) -> bool:
        """Constant-time for HMAC hashes; argon2id (slow: call it in a thread) for old ones."""
        if stored_hash.startswith(HMAC_PREFIX):
            return hmac.compare_digest(self.hash(code).encode(), stored_hash.encode())
        return verify_secret(stored_hash, normalise_code(code))

    @staticmethod
    def is_legacy(stored_hash: str) -> bool:
        return not stored_hash.startswith(HMAC_PREFIX)

    def derived(self, purpose: str) -> bytes:
        """A key of its own for ``purpose`` (sealing an outbox secret, signing a status link),
        derived from the server key, so one secret to keep serves them all."""
        return hmac.new(self._key, f"feedback:{purpose}".encode(), hashlib.sha256).digest()


def code_key(secret: str | None, data_dir: str | Path) -> bytes:
    """The key of the follow-up codes: derived from the configured one, else a random key made
    once and kept in ``data_dir/code.key`` (0600). Unlike the session key it must survive
    restarts and be the same in every worker: a lost key makes every issued code useless."""
    if secret:
        return hashlib.sha256(("feedback-code:" + secret).encode("utf-8")).digest()
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:  # first start: this process makes the key (O_EXCL: one of racing workers wins)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
    text = ""
    for _ in range(50):  # a racing worker may not have written it yet
        text = path.read_text(encoding="ascii").strip()
        if text:
            break
        time.sleep(0.02)
    return bytes.fromhex(text)


# For services built without a key (tests, one-off scripts): valid for this process only.
PROCESS_KEY = secrets.token_bytes(32)


LINK_PREFIX = "L-"


class StatusLinks:
    """Signed links to a report's status page, sent in notices (e-mail): the link stands in
    for the follow-up code on that one report until it expires, so a reporter can read the
    answer and rate it without the code. HMAC-SHA256 over the number and the expiry."""

    def __init__(self, key: bytes):
        self._key = key

    def _mac(self, tracking_number: str, expires: int) -> str:
        msg = f"{tracking_number}|{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def make(self, tracking_number: str, expires: datetime) -> str:
        exp = int(expires.timestamp())
        return f"{LINK_PREFIX}{exp:x}-{self._mac(tracking_number, exp)}"

    def valid(self, tracking_number: str, token: str, now: datetime) -> bool:
        match = re.fullmatch(r"L-([0-9a-f]{1,12})-([0-9a-f]{32})", token or "")
        if match is None:
            return False
        exp = int(match.group(1), 16)
        good = hmac.compare_digest(self._mac(tracking_number, exp), match.group(2))
        return good and now.timestamp() <= exp

"""Out of domain: text the Chinese classifier cannot read (English, digits, emoji, a URL …).

:func:`assess` is the one rule: the service calls it at intake (``refuse`` → a clear Chinese
error, nothing stored) and the classifier marks ``unrecognised`` reports 无法识别, with no issue
types; such a report is never auto-routed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MIN_HAN", "MIN_HAN_SHARE", "REFUSE_MESSAGE", "UNRECOGNISED", "Verdict", "assess"]

#: fewer Chinese characters than this, or a smaller share of the letters, is not readable here
MIN_HAN = 6
MIN_HAN_SHARE = 0.5
UNRECOGNISED = "无法识别"
REFUSE_MESSAGE = "未能识别出反映内容：请用中文写明发生了什么事、在什么地方（至少几句话）。"
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")  # letters of any script (Han included)


@dataclass(frozen=True)
class Verdict:
    """``kind``: 'report' (classify it), 'unrecognised' (triage, 无法识别) or 'refuse'."""

    kind: str
    han: int
    letters: int

    @property
    def refuse(self) -> bool:
        return self.kind == "refuse"

    @property
    def recognised(self) -> bool:
        return self.kind == "report"


def assess(title: str, text: str) -> Verdict:
    body = _URL.sub(" ", f"{title}\n{text}")
    han = len(_HAN.findall(body))
    letters = len(_LETTER.findall(body))
    if han >= MIN_HAN and han >= MIN_HAN_SHARE * letters:
        return Verdict("report", han, letters)
    # words in another language may still be a report a person can read; digits, punctuation,
    # emoji or a bare link are not
    other_words = re.findall(r"[^\W\d_]{2,}", _HAN.sub(" ", body))
    if han < 2 and len(other_words) < 3:
        return Verdict("refuse", han, letters)
    return Verdict("unrecognised", han, letters)

"""The citizen's 涉及单位 field matched to a bureau by its name or aliases.

The name table comes from the district's configuration (``feedback`` passes it in); the classifier
treats a match as evidence for that bureau, weighed against the text (see ``ReportClassifier``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

__all__ = ["AuthorityMatcher"]

# the place part a citizen may put before a bureau's name: 淄川区, A市, 某某县 ...
_PLACE_PREFIX = re.compile(r"^.{0,8}?(?:省|市|区|县|旗)(?=.{2,})")
_SPACES = re.compile(r"[\s·・\-—_()（）\[\]【】]+")


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


class AuthorityMatcher:
    """``match("淄川区人社局")`` → ``"rsj"``. Longest name or alias contained in the field wins;
    a field naming no known bureau (区政府, 某公司, empty) gives None."""

    def __init__(self, names: Mapping[str, Sequence[str]]) -> None:
        pairs: list[tuple[str, str]] = []
        for code, aliases in names.items():
            for alias in aliases:
                folded = _fold(alias)
                if len(folded) >= 2:
                    pairs.append((folded, code))
                    stripped = _PLACE_PREFIX.sub("", folded)
                    if stripped != folded and len(stripped) >= 3:
                        pairs.append((stripped, code))
        self._pairs = sorted(set(pairs), key=lambda p: -len(p[0]))

    def match(self, authority: str | None) -> str | None:
        if not authority:
            return None
        folded = _fold(authority)
        found = [(a, c) for a, c in self._pairs if a in folded]
        if not found:
            return None
        best = len(found[0][0])
        codes = {c for a, c in found if len(a) == best}
        return codes.pop() if len(codes) == 1 else None

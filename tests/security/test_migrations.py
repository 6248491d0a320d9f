"""Two branches each adding migration N: the second would never run on a database that has
the first (the runner keys on the number). Caught here, before it reaches anyone's database."""

from __future__ import annotations

from collections import Counter

import pytest

from feedback.store.sqlite import migrations


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_no_two_migrations_share_a_number(kind: str) -> None:
    numbers = Counter(number for number, _name, _sql in migrations(kind))
    assert [n for n, times in numbers.items() if times > 1] == []

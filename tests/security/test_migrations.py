"""One migration history for both stores (feedback/store/migrations/versions/). Two branches
each adding a revision after the same head would leave two heads, and the start-up could not
upgrade; a revision id that is not its file's number would break the mapping from the
numbered SQL files of before 0.2. Caught here, before it reaches anyone's database."""

from __future__ import annotations

import re

from alembic.script import ScriptDirectory

from feedback.store import migrate


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.config())


def test_the_history_is_one_line_with_one_head() -> None:
    script = scripts()
    assert len(script.get_heads()) == 1, f"two heads: {script.get_heads()}; see docs/operations.md"
    for rev in script.walk_revisions():
        assert rev.down_revision is None or isinstance(rev.down_revision, str), rev.revision
        assert len(rev.nextrev) <= 1, f"{rev.revision} has two successors: {rev.nextrev}"


def test_every_revision_id_is_its_files_number_and_no_two_share_one() -> None:
    files = sorted(p.name for p in (migrate.SCRIPTS / "versions").glob("*.py"))
    numbers = [name.split("_", 1)[0] for name in files]
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", name) for name in files), files
    assert len(numbers) == len(set(numbers)), files
    ids = {rev.revision: rev.path for rev in scripts().walk_revisions()}
    assert sorted(ids) == numbers
    for rev, path in ids.items():
        assert path.rsplit("/", 1)[-1].startswith(f"{rev}_"), (rev, path)


def test_the_legacy_numbers_0001_to_0013_are_all_there() -> None:
    assert set(f"{n:04d}" for n in range(1, 14)) <= set(migrate.revisions())

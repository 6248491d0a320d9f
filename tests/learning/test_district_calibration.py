"""A retrained department model meets the district's traffic, not the corpus: once the district
has given 200 labels, the probabilities, the evidence weights and the routing table of a
retrained model are fitted on the district's own held-out rows alone
(classifiers.training.DISTRICT_CALIBRATION_ROWS); with fewer, on every row as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from classifiers.corpus import corpus_examples
from classifiers.training import DISTRICT_CALIBRATION_ROWS, Example
from feedback import labels, learning
from feedback.config import Config


def small_base(target: str) -> list[Example]:
    return corpus_examples(target)[::8]


def district_labels(n: int) -> list[labels.Label]:
    """``n`` reports the district's bureaus signed for (messages the small base did not hold)."""
    rows = [x for x in corpus_examples("department")[3::4] if x.labels][:n]
    start = datetime(2026, 3, 2, tzinfo=UTC)
    return [
        labels.Label(target="department", title=x.title, text=x.text, labels=[x.labels[0]],
                     predicted=[], source="accept", actor_id=f"{x.labels[0]}-staff",
                     created_at=start + timedelta(hours=i), id=i + 1)
        for i, x in enumerate(rows)
    ]  # fmt: skip


@pytest.mark.slow
def test_with_200_district_labels_the_model_calibrates_on_the_districts_rows(
    config: Config,
) -> None:
    enough = district_labels(DISTRICT_CALIBRATION_ROWS)
    assert len(enough) == DISTRICT_CALIBRATION_ROWS
    model = learning.train_candidate("department", enough, config, base=small_base)
    held = model.rule["held_out"]
    assert held["rows"] == "district", held
    # Only district rows were the calibration set (a few whose bureau no other fold learned
    # can be left out), not the corpus's ones as well.
    assert DISTRICT_CALIBRATION_ROWS * 0.9 <= held["examples"] <= DISTRICT_CALIBRATION_ROWS
    assert model.rule["route_curve"], "the routing table comes from those rows"

    fewer = learning.train_candidate("department", enough[:-1], config, base=small_base)
    held = fewer.rule["held_out"]
    assert held["rows"] == "all", held
    assert held["examples"] > DISTRICT_CALIBRATION_ROWS + len(small_base("department")) * 0.5

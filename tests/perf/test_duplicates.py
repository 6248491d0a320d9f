"""Near-duplicates are found through the fingerprint index: the reposts a full scan finds are
still linked, and only a handful of rows are read for each new report."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from feedback import duplicates
from feedback.service import FeedbackService
from feedback.store import Store
from tests.shared_data import TEDDY

HOT = TEDDY / "attachment3_hot.csv"
THRESHOLD = 0.8


def _messages(n: int) -> list[str]:
    with HOT.open(encoding="utf-8", newline="") as f:
        return [
            f"{r['title']}\n{r['text']}" for _, r in zip(range(n), csv.DictReader(f), strict=False)
        ]


@pytest.mark.skipif(not HOT.exists(), reason="the shared real data is not here")
def test_the_index_finds_the_reposts_a_full_scan_finds_in_real_messages() -> None:
    texts = _messages(700)
    grams = [duplicates.shingles(t) for t in texts]
    keys = [set(duplicates.bands(g)) for g in grams]
    scanned = indexed = candidates = 0
    for i in range(1, len(texts)):
        best = max(range(i), key=lambda j: duplicates.cosine(grams[i], grams[j]))
        if duplicates.cosine(grams[i], grams[best]) < THRESHOLD:
            continue
        scanned += 1
        sharing = [j for j in range(i) if keys[i] & keys[j]]
        candidates += len(sharing)
        ranked = sorted(sharing, key=lambda j: -len(keys[i] & keys[j]))[: duplicates.CANDIDATES]
        found = [(str(j), "", texts[j]) for j in ranked]
        match = duplicates.best_match(grams[i], found, THRESHOLD)
        indexed += match is not None
    assert scanned >= 10, "the sample should hold reposts"
    assert indexed == scanned, f"{scanned - indexed} of {scanned} reposts missed"


async def test_a_repost_is_linked_among_many_reports_and_old_reports_are_indexed(
    service: FeedbackService, store: Store
) -> None:
    body = "小区门口的烧烤摊每天晚上营业到凌晨两点，油烟和噪音让整栋楼的居民无法休息，多次反映无人处理。"
    first = await service.submit({"title": "烧烤摊扰民", "text": body})
    for i in range(12):
        await service.submit(
            {
                "title": f"其他问题{i}",
                "text": f"第{i}号路段的路灯坏了{i + 3}天，晚上出行很不安全，请派人维修。",
            }
        )
    repost = await service.submit({"title": "烧烤摊扰民", "text": body + "请尽快处理！"})
    assert repost.report.duplicate_of == first.tracking_number
    unrelated = await service.submit(
        {"title": "医保报销", "text": "异地就医的医保报销需要准备哪些材料，去哪里办理？"}
    )
    assert unrelated.report.duplicate_of is None

    # A report from before the index (no fingerprint) is still found, by a new service.
    async with store.transaction() as tx:
        await tx.execute("DELETE FROM report_bands")
    fresh = FeedbackService(store, service.config, clock=service.clock)
    again = await fresh.submit({"title": "烧烤摊扰民", "text": "又来了：" + body})
    assert again.report.duplicate_of in (first.tracking_number, repost.tracking_number)
    rows = await store.fetch("SELECT COUNT(DISTINCT report_id) AS n FROM report_bands")
    assert rows[0]["n"] >= 3  # the open reports got their fingerprints


def test_the_fingerprint_is_stable_and_fits_64_bits() -> None:
    grams = Counter(duplicates.shingles("城管执法人员没有出示证件"))
    keys = duplicates.bands(grams)
    assert keys == duplicates.bands(grams) and len(keys) == duplicates.BANDS
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert duplicates.bands(Counter()) == []


async def test_in_a_repost_storm_the_newest_copies_are_read_and_the_repost_is_linked(
    service: FeedbackService, store: Store
) -> None:
    """Thirty copies of one complaint share every band, more than the search reads of a band
    (issue 14: its work must not grow with them): a new copy still links to one of the copies,
    and a different complaint filed before the storm is still found by its own repost."""
    early = await service.submit(
        {
            "title": "井盖缺失",
            "text": "人民路与解放路路口的井盖丢了好几天，晚上有行人差点掉下去，请尽快补上。",
        }
    )
    body = "小区门口的烧烤摊每天晚上营业到凌晨两点，油烟和噪音让整栋楼的居民无法休息，多次反映无人处理。"
    copies = [
        (await service.submit({"title": f"烧烤摊扰民{i}", "text": body})).tracking_number
        for i in range(30)
    ]
    repost = await service.submit({"title": "烧烤摊扰民", "text": body + "请尽快处理！"})
    assert repost.report.duplicate_of in copies
    again = await service.submit(
        {
            "title": "井盖缺失",
            "text": "人民路与解放路路口的井盖丢了好几天，晚上有行人差点掉下去，请尽快补上！！",
        }
    )
    assert again.report.duplicate_of == early.tracking_number
    found = await duplicates.candidates(
        store, duplicates.bands(duplicates.shingles(f"烧烤摊扰民\n{body}")),
        repost.report.department, service.clock(), service.config.routing.duplicate_days,
    )  # fmt: skip
    assert 0 < len(found) <= duplicates.CANDIDATES


async def test_after_the_index_is_rebuilt_warm_up_fingerprints_the_open_reports(
    service: FeedbackService, store: Store
) -> None:
    """Migration 0023 empties the index (16 bands of 2 replace 32 of 3); the service's warm-up
    at start fingerprints every open report again, before the first citizen waits."""
    body = "菜市场旁边的垃圾站好几天没人清运，臭味很大，夏天蚊蝇特别多，请安排清理。"
    first = await service.submit({"title": "垃圾站无人清运", "text": body})
    await service.submit({"title": "路灯不亮", "text": "解放路一段的路灯已经坏了一周，晚上很黑。"})
    async with store.transaction() as tx:
        await tx.execute("DELETE FROM report_bands")
    fresh = FeedbackService(store, service.config, clock=service.clock)
    await fresh.warm_up()
    rows = await store.fetch("SELECT report_id, COUNT(*) AS n FROM report_bands GROUP BY report_id")
    assert sorted(r["n"] for r in rows) == [duplicates.BANDS, duplicates.BANDS]
    repost = await fresh.submit({"title": "垃圾站无人清运", "text": body + "谢谢！"})
    assert repost.report.duplicate_of == first.tracking_number

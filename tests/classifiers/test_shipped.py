from __future__ import annotations

import csv
import json
import random

import pytest

from classifiers.build_shipped import shipped_inputs
from classifiers.bundle import SHIPPED_DIR
from classifiers.model import ReportClassifier
from classifiers.storage import data_sha256
from tests.shared_data import TEDDY as TEDDY_DIR

TEDDY = TEDDY_DIR / "attachment2_raw_subset.csv"
# 一级标签 that map to exactly one bureau of the default district
UNAMBIGUOUS = {
    "劳动和社会保障": "rsj",
    "教育文体": "jtj",
    "卫生计生": "wjj",
    "环境保护": "sthj",
    "交通运输": "jtys",
}

WRITTEN = [
    (
        "小区门口流动摊贩占道经营",
        "每天早上六点开始，十几个摊贩把人行道全占了，行人只能走机动车道。",
        "zhzf",
    ),
    ("物业不作为", "我们小区物业费照收，电梯坏了一个月没人修，楼道灯也不亮。", "zjj"),
    ("公司拖欠工资", "我在一家装修公司干了半年，老板拖欠了三个月工资，一直说没钱。", "rsj"),
    ("学校乱收费", "孩子所在的初中要求每人交五百元资料费，没有任何收据。", "jtj"),
    ("化工厂偷排", "村南边的化工厂晚上偷偷往河里排污水，河水发黑，鱼都死光了。", "sthj"),
    ("超市卖过期食品", "在小区超市买的牛奶已经过期两个星期，店家不给退款。", "scjg"),
    ("低保评定不公", "村里的低保名额都给了村干部的亲戚，真正困难的人家申请不上。", "mzj"),
    ("医保报销难", "在外地住院花了三万多，回来报销医保，说材料不全，来回跑了五趟。", "ybj"),
    ("医院乱检查", "孩子感冒去医院，医生开了一大堆检查，花了八百多，怀疑过度医疗。", "wjj"),
    ("公交车不按站停", "12路公交车经常不进站就开走，司机态度恶劣。", "jtys"),
    ("违法占用耕地", "有人在基本农田上盖厂房，占了二十多亩耕地。", "zrzy"),
    ("河道采砂", "有人夜里在河道里非法采砂，河堤都被挖空了，汛期很危险。", "slj"),
]


def test_manifest_hash_matches_current_corpus_and_cue_lists() -> None:
    digest = data_sha256(shipped_inputs())
    for target in ("department", "issue_type"):
        manifest = json.loads((SHIPPED_DIR / target / "manifest.json").read_text("utf-8"))
        assert manifest["training_data_sha256"] == digest, (
            "classifiers/data/corpus/ or data/cues/ changed: run `python -m classifiers.build_shipped`"
        )


def test_shipped_bundle_is_small() -> None:
    size = sum(p.stat().st_size for p in SHIPPED_DIR.rglob("*") if p.is_file())
    assert size < 5 * 1024 * 1024


def test_written_reports_are_routed(shipped: ReportClassifier) -> None:
    right = [shipped.predict(t, x).department == want for t, x, want in WRITTEN]
    assert sum(right) >= 10, right


@pytest.mark.skipif(not TEDDY.exists(), reason="teddy2020 data not available")
def test_real_reports_routed_far_better_than_chance(shipped: ReportClassifier) -> None:
    with TEDDY.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["label"] in UNAMBIGUOUS]
    random.Random(7).shuffle(rows)
    sample = rows[:300]
    right = sum(
        shipped.predict(r["title"], r["text"]).department == UNAMBIGUOUS[r["label"]] for r in sample
    )
    chance = 1 / len(shipped.departments)
    assert right / len(sample) >= max(0.5, 8 * chance), right / len(sample)


def test_fine_without_written_decision_is_improper_procedure(shipped: ReportClassifier) -> None:
    p = shipped.predict(
        "城管罚款不给处罚决定书",
        "上周我在自家店门口摆了两张桌子，城管执法人员过来直接罚了我五百元，"
        "没有出具任何书面的行政处罚决定书，也没有告诉我可以陈述申辩。",
    )
    assert "improper_procedure" in p.issue_types
    assert p.department == "zhzf"
    assert p.reasons and all(isinstance(r, str) and r.strip() for r in p.reasons)
    assert abs(sum(prob for _, prob in shipped.predict("x", "y", k=99).top) - 1) < 1e-6


def test_plain_request_has_no_issue_type(shipped: ReportClassifier) -> None:
    p = shipped.predict("路灯坏了", "我们小区门口的路灯坏了一个星期了，晚上很黑，希望尽快修一下。")
    assert p.issue_types == []


def test_predict_from_worker_threads(shipped: ReportClassifier) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda r: shipped.predict(r[0], r[1]).department, WRITTEN * 3))
    assert got == [shipped.predict(t, x).department for t, x, _ in WRITTEN] * 3


def test_an_office_that_ignored_repeated_complaints_is_inaction(
    shipped: ReportClassifier,
) -> None:
    p = shipped.predict(
        "油烟扰民无人处理",
        "楼下饭店油烟直排，我们从去年开始多次向街道办和环保局反映，也打过12345，"
        "街道办一直没有处理，环保局说不归他们管，到现在还是老样子。",
    )
    assert "inaction" in p.issue_types, p.issue_type_probabilities

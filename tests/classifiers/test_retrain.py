from __future__ import annotations

from pathlib import Path

import numpy as np

from classifiers.bundle import load_classifier
from classifiers.evaluation import evaluate
from classifiers.retrain import current_model_dir, promote, retrain
from classifiers.storage import save_model
from classifiers.training import Example, read_examples, train

CORRECTIONS = [
    Example("健身房跑路", "办了健身房的预付卡，交了三千元，老板突然关门跑路了。", ("scjg",)),
    Example("预付卡退款", "理发店的预付卡余额不给退，店家换了老板就不认账。", ("scjg",)),
    Example("超市过期食品", "超市卖过期食品，找店家退款被拒绝。", ("scjg",)),
    Example("缺斤短两", "菜市场摊贩缺斤短两，称明显有问题。", ("scjg",)),
    Example("假冒伪劣", "网上买的名牌鞋是假冒伪劣产品，商家不给退款。", ("scjg",)),
    Example("预付卡消费", "美容院的预付卡消费陷阱，办卡后服务缩水，要求退款不给。", ("scjg",)),
    Example("乱涨价", "小区超市乱涨价，同样的东西比别处贵一倍。", ("scjg",)),
    Example("餐馆卫生", "饭店后厨卫生很差，吃完拉肚子，要求退款。", ("scjg",)),
    Example("游泳馆跑路", "游泳馆预付卡会员费交了，场馆却关门了，退款无门。", ("scjg",)),
    Example("过期药品", "药店卖过期食品和保健品，要求退款被拒。", ("scjg",)),
]


def test_retrain_learns_corrections_and_promotes(tmp_path: Path, tiny_csv: Path) -> None:
    base = read_examples(tiny_csv)
    root = tmp_path / "models"
    first = save_model(train(base, "department"), tmp_path / "v1")
    promoted = promote(first, root)
    assert current_model_dir(root) == promoted
    probe = ("瑜伽馆预付卡", "交了两千元办瑜伽馆预付卡，现在店关门跑路了，要求退款。")
    assert load_classifier(promoted).predict(*probe).department != "scjg"

    result = retrain(base, CORRECTIONS, promoted, tmp_path / "candidate", "department", seed=1)
    assert result.n_holdout == 3 and result.n_train == len(base) + 7
    assert result.old_score is not None and result.new_score >= result.old_score
    assert result.promote
    assert load_classifier(result.candidate_dir).predict(*probe).department == "scjg"

    new_current = promote(result.candidate_dir, root)
    assert new_current != promoted
    assert current_model_dir(root) == new_current
    assert load_classifier(current_model_dir(root) or "").predict(*probe).department == "scjg"
    # the earlier version is kept for rollback
    assert promote(promoted, root) == promoted and current_model_dir(root) == promoted


def test_issue_type_model_trains_and_evaluates(tiny_issue_csv: Path) -> None:
    examples = read_examples(tiny_issue_csv)
    model = train(examples, "issue_type")
    assert model.labels == ["abuse_of_power", "improper_procedure", "inaction", "opacity"]
    report = evaluate(model, examples)
    for key in ("accuracy", "macro_f1", "micro_f1", "subset_accuracy", "per_label"):
        assert key in report
    assert float(report["micro_f1"]) > 0.5  # type: ignore[arg-type]


def test_a_districts_own_rows_set_the_threshold_once_there_are_enough() -> None:
    # The corpus says a type at p ≥ 0.8; the district's reports (its real traffic) say it at
    # p ≥ 0.3. With enough district rows and positives, the district's rows decide.
    from classifiers.training import THRESHOLD_POSITIVES, THRESHOLD_ROWS, _threshold

    rng = np.random.default_rng(1)
    corpus_p = rng.uniform(0, 1, 400)
    corpus_y = (corpus_p >= 0.8).astype(np.int64)
    n = THRESHOLD_ROWS
    district_p = np.linspace(0, 1, n)
    district_y = (district_p >= 0.3).astype(np.int64)
    p = np.concatenate([corpus_p, district_p])
    y = np.concatenate([corpus_y, district_y])
    district = np.concatenate([np.zeros(400, bool), np.ones(n, bool)])
    t, _ = _threshold(p, y, district)
    assert 0.25 <= t <= 0.32
    # Too few district rows: the whole set decides, as before a district has any.
    few = district.copy()
    few[400 + THRESHOLD_POSITIVES :] = False
    assert _threshold(p, y, np.zeros_like(district))[0] == _threshold(p, y, few)[0]

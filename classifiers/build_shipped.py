"""Rebuild the shipped bundle from classifiers/data/bootstrap.csv (deterministic).

python -m classifiers.build_shipped [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from classifiers.bundle import SHIPPED_DIR
from classifiers.evaluation import evaluate
from classifiers.features import FeatureConfig
from classifiers.model import TARGETS
from classifiers.segment import DATA_DIR
from classifiers.storage import data_sha256, save_model
from classifiers.training import TrainConfig, analyze_all, read_examples, train

__all__ = ["BOOTSTRAP", "SHIPPED_CONFIG", "build", "main"]

BOOTSTRAP = DATA_DIR / "bootstrap.csv"
# Pruned vocabularies keep the committed bundle small (a few MB).
SHIPPED_CONFIG = TrainConfig(
    features=FeatureConfig(min_df=2, max_word_features=20000, max_char_features=30000),
    C=0.5,
)


def build(out: Path = SHIPPED_DIR, corpus: Path = BOOTSTRAP) -> dict[str, dict[str, object]]:
    """Train both targets on ``corpus`` and write ``out/department`` and ``out/issue_type``."""
    digest = data_sha256([corpus])
    summary: dict[str, dict[str, object]] = {}
    docs = None
    for target in TARGETS:
        examples = read_examples(corpus, target=target)
        if docs is None:
            docs = analyze_all(examples, SHIPPED_CONFIG.features)
        model = train(examples, target, config=SHIPPED_CONFIG, docs=docs)
        report = evaluate(model, examples)
        metrics = {
            "training_accuracy": report["accuracy"],
            "training_macro_f1": report["macro_f1"],
            "corpus": corpus.name,
        }
        target_dir = out / target
        if target_dir.exists():
            shutil.rmtree(target_dir)
        save_model(model, target_dir, metrics=metrics, training_sha256=digest)
        summary[target] = {
            "labels": len(model.labels),
            "features": model.space.n_features,
            **metrics,
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR, help="bundle directory")
    ap.add_argument("--corpus", type=Path, default=BOOTSTRAP, help="training CSV")
    args = ap.parse_args(argv)
    for target, info in build(args.out, args.corpus).items():
        print(target, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rebuild the shipped bundle from the project's corpus (classifiers/data/corpus/*.jsonl).

python -m classifiers.build_shipped [--out DIR] [--corpus FILE ...]

Deterministic: the same corpus gives the same bundle. The 涉及单位 weight is fitted with the
bureau names and aliases of the shipped district configuration (``feedback/default.toml``, read
as data: classifiers never import feedback).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from classifiers.authority import AuthorityMatcher
from classifiers.bundle import SHIPPED_DIR
from classifiers.corpus import read_corpus, shipped_files, to_examples
from classifiers.cues import CLAUSE_TYPES, cue_files
from classifiers.evaluation import evaluate
from classifiers.features import FeatureConfig
from classifiers.model import DEPARTMENT, TARGETS
from classifiers.storage import data_sha256, save_model
from classifiers.training import TrainConfig, analyze_all, train

__all__ = ["DEFAULT_CONFIG", "SHIPPED_CONFIG", "build", "default_matcher", "main", "shipped_inputs"]

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "feedback" / "default.toml"
# Pruned vocabularies keep the committed bundle small (a few MB). Held-out predictions leave
# one corpus writer out at a time: calibration, the routing table, the evidence weights and
# the issue-type thresholds then see a style the model never learned, as with real citizens
# (stratified folds made it overconfident on real text: ECE 0.095 against 0.049).
# jieba reads the first 300 characters for the department (200 before: real department
# macro-F1 0.795 -> 0.800, a choice measured on the shared data, disclosed in
# docs/classifier.md); issue types keep 200 (a longer window did not pay there).
SHIPPED_CONFIG = TrainConfig(
    features=FeatureConfig(
        min_df=2, max_word_features=20000, max_char_features=30000, max_word_chars=300
    ),
    C=0.5,
    group_folds=True,
)
# Issue types: the cue-stacked model averaged with equal weight with a cue-only view. Held-out
# corpus F1 prefers the stack alone (0.743 vs 0.707 mean), but its learned score is what fails
# on real text; on the shared dev set the average scored 0.44 against 0.39 (a choice made with
# that measurement in view, disclosed in docs/classifier.md; thresholds stay corpus-chosen).
# Since 2026-12-02 (issue 12, helper types) inaction's stack also reads the clause features
# (who failed: an authority or a private party; complaint history; plea): held-out corpus F1
# unchanged (0.804), chosen on the shared dev set (inaction 0.66 -> 0.69; real "none" letters
# read as inaction 45 -> 26), disclosed in docs/classifier.md.
ISSUE_CONFIG = replace(
    SHIPPED_CONFIG,
    features=replace(SHIPPED_CONFIG.features, max_word_chars=200),
    cue_blend=0.5,
    clause_types=CLAUSE_TYPES,
)


def _departments(path: Path) -> list[dict[str, object]]:
    with path.open("rb") as fh:
        return list(tomllib.load(fh).get("departments", []))


def default_matcher(path: Path = DEFAULT_CONFIG) -> AuthorityMatcher:
    """Bureau names and aliases of a district configuration file."""
    return AuthorityMatcher(
        {str(d["code"]): [str(d["name"]), *d.get("aliases", [])] for d in _departments(path)}  # type: ignore[misc]
    )


def default_keywords(path: Path = DEFAULT_CONFIG) -> dict[str, list[str]]:
    """Remit keywords of a district configuration file."""
    return {str(d["code"]): list(d.get("keywords", [])) for d in _departments(path)}  # type: ignore[call-overload]


def shipped_inputs(corpus: Sequence[Path] | None = None) -> list[Path]:
    """What a bundle depends on: the corpus files, and the cue lists (the issue-type decision
    was fitted on these very cues, so editing them calls for a rebuild too)."""
    return [*(list(corpus) if corpus else shipped_files()), *cue_files()]


def build(
    out: Path = SHIPPED_DIR,
    corpus: Sequence[Path] | None = None,
    config: TrainConfig = SHIPPED_CONFIG,
    issue_config: TrainConfig | None = None,
    use_keywords: bool = True,
) -> dict[str, dict[str, object]]:
    """Train both targets on ``corpus`` and write ``out/department`` and ``out/issue_type``."""
    files = list(corpus) if corpus else shipped_files()
    rows = read_corpus(files)
    digest = data_sha256(shipped_inputs(files))
    matcher = default_matcher()
    summary: dict[str, dict[str, object]] = {}
    for target in TARGETS:
        examples = to_examples(rows, target)
        cfg = config if target == DEPARTMENT else (issue_config or ISSUE_CONFIG)
        docs = analyze_all(examples, cfg.features)
        model = train(
            examples,
            target,
            config=cfg,
            docs=docs,
            authority_match=matcher.match if target == DEPARTMENT else None,
            keywords=default_keywords() if target == DEPARTMENT and use_keywords else None,
        )
        report = evaluate(model, examples)
        metrics = {
            "training_accuracy": report["accuracy"],
            "training_macro_f1": report["macro_f1"],
            "corpus": [f.name for f in files],
            "n_messages": len(rows),
        }
        target_dir = out / target
        if target_dir.exists():
            shutil.rmtree(target_dir)
        save_model(model, target_dir, metrics=metrics, training_sha256=digest)
        held = {
            k: v
            for k, v in model.rule.items()
            if k in ("held_out", "authority_weight", "keyword_weight")
        }
        types = model.rule.get("types")
        if isinstance(types, dict):
            held["thresholds"] = {k: v.get("threshold") for k, v in types.items()}
            held["held_out_f1"] = {k: v.get("held_out_f1") for k, v in types.items()}
        summary[target] = {
            "labels": len(model.labels),
            "features": model.space.n_features,
            **metrics,
            **held,
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR, help="bundle directory")
    ap.add_argument("--corpus", type=Path, action="append", help="corpus file (repeatable)")
    args = ap.parse_args(argv)
    for target, info in build(args.out, args.corpus).items():
        print(target, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())

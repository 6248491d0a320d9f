"""`feedback` subcommands for the report classifier: train, evaluate, classify."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["cmd_classify", "cmd_evaluate", "cmd_train", "register"]

_TARGETS = ("department", "issue_type")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train`, `evaluate` and `classify` subcommands."""
    p = subparsers.add_parser(
        "train",
        help="train a classifier model from labelled CSV files",
        description="Train a department or issue-type model. CSV columns: text, label "
        "(several labels |-joined, empty = none), optional title; the bootstrap corpus's "
        "department / issue_types columns are used when there is no label column.",
    )
    p.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="CSV",
        help="labelled CSV file (repeat for several)",
    )
    p.add_argument("--target", choices=_TARGETS, required=True, help="what to predict")
    p.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("evaluate", help="score a model on a labelled CSV file")
    p.add_argument("--data", required=True, metavar="CSV", help="labelled CSV file")
    p.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="model directory, or a bundle with department/ and issue_type/",
    )
    p.add_argument("--target", choices=_TARGETS, required=True, help="which model to score")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser(
        "classify",
        help="classify reports: one JSON line each",
        description="Reads one report per stdin line (or CSV rows with title,text and an "
        "optional authority, the 涉及单位 field) and prints one JSON object per report: "
        "department, department_probability, top, issue_types, issue_type_probabilities, "
        "reasons (keyed by label), recognised, and route: 'routed' or 'triage', the decision "
        "the service takes with the configured thresholds. An empty line gives an error row.",
    )
    p.add_argument(
        "--model",
        metavar="DIR",
        help="bundle or single-target model directory (default: the shipped bundle)",
    )
    p.add_argument("--csv", metavar="FILE", help="CSV file with title,text columns")
    p.add_argument(
        "--json", action="store_true", help="JSON lines output (the default; kept for symmetry)"
    )
    p.add_argument("-k", type=int, default=3, help="number of departments in `top`")
    p.set_defaults(func=cmd_classify)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from classifiers.evaluation import evaluate
    from classifiers.storage import data_sha256, save_model
    from classifiers.training import read_examples, train

    try:
        examples = [ex for path in args.data for ex in read_examples(path, target=args.target)]
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="step", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        model = train(examples, args.target, progress=progress)
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        for bar in bars.values():
            bar.close()
    report = evaluate(model, examples)
    save_model(
        model,
        args.out,
        metrics={"training_accuracy": report["accuracy"], "training_macro_f1": report["macro_f1"]},
        training_sha256=data_sha256(args.data),
    )
    print(
        f"trained {args.target} model on {len(examples)} examples, {len(model.labels)} "
        f"labels, {model.space.n_features} features -> {args.out}"
    )
    return 0


def _target_dir(model: str, target: str) -> Path:
    root = Path(model)
    return root / target if (root / target / "manifest.json").is_file() else root


def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifiers.evaluation import evaluate, format_report
    from classifiers.storage import ModelError, load_model
    from classifiers.training import read_examples

    try:
        model = load_model(_target_dir(args.model, args.target), args.target)
        examples = read_examples(args.data, target=args.target)
    except (ModelError, OSError, ValueError) as exc:
        return _fail(str(exc))
    report = evaluate(model, examples)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def _reports(csv_file: str | None) -> Any:
    """(line or row number, title, text, authority) of every input report."""
    if csv_file:
        with open(csv_file, encoding="utf-8-sig", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), 2):
                yield n, (row.get("title") or ""), (row.get("text") or ""), row.get("authority")
        return
    for n, line in enumerate(sys.stdin, 1):
        yield n, "", line.strip(), None


def cmd_classify(args: argparse.Namespace) -> int:
    from classifiers.bundle import load_classifier, load_shipped
    from classifiers.storage import ModelError
    from feedback import routing
    from feedback.config import load_config
    from feedback.errors import ConfigError

    try:
        clf = load_classifier(args.model) if args.model else load_shipped()
        config = load_config(getattr(args, "config", None))
    except (ModelError, OSError, ConfigError) as exc:
        return _fail(str(exc))
    try:
        for n, title, text, authority in _reports(args.csv):
            if not (title.strip() or text.strip()):
                row: dict[str, Any] = {"line": n, "error": "empty report: nothing to classify"}
            else:
                bureau = routing.authority_bureau(authority, config)
                pred = clf.predict(title, text, k=args.k, authority_bureau=bureau)
                decision = routing.decide(pred, f"{title}\n{text}", config)
                row = {
                    **pred.to_json(),
                    "route": "routed" if decision.confident else "triage",
                    "issue_types": decision.issue_types,
                }
            print(json.dumps(row, ensure_ascii=False), flush=True)
    except OSError as exc:
        return _fail(str(exc))
    return 0

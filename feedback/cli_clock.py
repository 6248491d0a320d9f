"""Commands for the work-order clock and the model's learning: `feedback tick`, `feedback retrain`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from feedback.cli import common, run, settings_from


def cmd_tick(args: argparse.Namespace) -> int:
    from feedback import jobs
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            result = await jobs.tick(service, checkpoint_key=settings.checkpoint_key)
        print(result.summary())
        return 0

    return int(run(go))


def cmd_retrain(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from feedback.model_provider import retrain_from_corrections
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def corrections() -> dict[str, list[tuple[str, str, list[str]]]]:
        async with open_service(settings, with_model=False) as service:
            found = await service.store.list_corrections()
        by_target: dict[str, list[tuple[str, str, list[str]]]] = {
            "department": [],
            "issue_type": [],
        }
        for c in found:
            by_target.setdefault(c.target, []).append((c.title, c.text, c.labels))
        return by_target

    data = run(corrections)
    print(
        f"corrections: {len(data['department'])} department, {len(data['issue_type'])} issue type"
    )
    bar = tqdm(desc="training", unit="step")

    def progress(*_: object) -> None:
        bar.update(1)

    outcomes = retrain_from_corrections(settings.models_dir, data, progress=progress)
    bar.close()
    if not outcomes:
        print("not enough corrections to retrain (need at least 2 for a target); nothing changed")
        return 0
    for o in outcomes:
        old = "n/a" if o.old_score is None else f"{o.old_score:.3f}"
        print(f"{o.target}: {o.metric} old {old} new {o.new_score:.3f} on {o.holdout} held back")
    promoted = all(o.promoted for o in outcomes)
    print("promoted the new model" if promoted else "kept the current model (new one was worse)")
    if args.json:
        print(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tick", help="run the deadline job once: reminders, 督办, rating windows")
    common(p)
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser(
        "retrain",
        help="retrain from the bootstrap corpus plus staff corrections; promote if not worse",
    )
    common(p)
    p.add_argument("--json", action="store_true", help="also print the outcome as JSON")
    p.set_defaults(func=cmd_retrain)

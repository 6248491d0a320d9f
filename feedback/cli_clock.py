"""The work-order clock's command: `feedback tick` (retraining: feedback.cli_learning)."""

from __future__ import annotations

import argparse

from feedback.cli import common, run, settings_from


def cmd_tick(args: argparse.Namespace) -> int:
    from feedback import jobs
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings, with_model=False) as service:
            learn = jobs.Learning(settings.models_dir, settings.retrain_labels)
            result = await jobs.tick(service, checkpoint_key=settings.checkpoint_key, learn=learn)
        print(result.summary())
        return 0

    return int(run(go))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tick", help="run the deadline job once: reminders, 督办, rating windows")
    common(p)
    p.set_defaults(func=cmd_tick)

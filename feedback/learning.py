"""Learning from the district's own labels: retraining, the honest gate, automatic retraining
and seeding from a district's past work orders.

A retraining, per target (department, issue types):
1. the labels that count (feedback.labels.effective), in time order;
2. the holdout: the newest of them that the model in use was not trained on (its manifest
   lists the label ids it learned from), a share of all labels (GateSettings);
3. the candidate learns from the project's corpus plus every older label, through the same
   trainer and settings as the shipped model (classifiers.training.train);
4. both are scored on the holdout and compared with a paired bootstrap (feedback.model_gate);
   a better candidate is promoted (the other target stays as it is), a refused one is kept
   under ``refused/`` with its scores; either way the model history says why.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from classifiers.authority import AuthorityMatcher
from classifiers.bundle import SHIPPED_DIR
from classifiers.model import DEPARTMENT, ISSUE_TYPE, TARGETS, LinearModel, ReportClassifier
from classifiers.retrain import current_model_dir, promote
from classifiers.storage import load_model, save_model
from classifiers.training import DISTRICT_GROUP, Example, Progress, train
from feedback import labels, model_gate, model_versions, routing
from feedback.config import Config
from feedback.model_gate import GateSettings, Verdict
from feedback.models import Actor

if TYPE_CHECKING:
    from feedback.service import FeedbackService

log = logging.getLogger(__name__)

__all__ = [
    "ImportReport",
    "RetrainReport",
    "auto_retrain",
    "import_history",
    "retrain",
    "retrain_labels",
]

# A district label weighs more than a corpus message: it is real traffic of this district.
LABEL_WEIGHT = 2.0
# District labels are split in this many groups (by time) for the held-out predictions that
# calibrate the model: each is predicted by a model that learned from the others and the corpus.
LABEL_GROUPS = 3
NIGHT_HOURS = (2, 5)  # the nightly retraining runs between 02:00 and 05:00 district time


@dataclass
class RetrainReport:
    verdicts: list[Verdict]
    in_use: str  # the version in use afterwards
    candidate: str | None = None  # the name it was kept under (versions/ or refused/)
    promoted: bool = False
    labels_upto: int = 0  # the newest label id considered

    def lines(self) -> list[str]:
        out = [
            f"{model_gate.TARGET_NAMES.get(v.target, v.target)}：{v.reason}" for v in self.verdicts
        ]
        if self.promoted:
            out.append(f"新版本 {self.in_use} 已启用，服务无需重启即会使用。")
        elif self.candidate:
            out.append(
                f"候选模型未启用，已保存为 {self.candidate}（可用 feedback model list 查看）。"
            )
        else:
            out.append(f"没有训练新模型；继续使用 {self.in_use}。")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "verdicts": [v.to_json() for v in self.verdicts],
            "in_use": self.in_use,
            "candidate": self.candidate,
            "promoted": self.promoted,
            "labels_upto": self.labels_upto,
        }


def _matcher(config: Config) -> AuthorityMatcher:
    return AuthorityMatcher({d.code: [d.name, *d.aliases] for d in config.departments})


def _keywords(config: Config) -> dict[str, list[str]]:
    return {d.code: list(d.keywords) for d in config.departments}


def _usable(target: str, label: labels.Label, config: Config) -> bool:
    if target == DEPARTMENT:
        return len(label.labels) == 1 and config.has_department(label.labels[0])
    return all(t in config.issue_type_codes for t in label.labels)


def _examples(found: Sequence[labels.Label], weight: float) -> list[Example]:
    n = max(1, len(found))
    return [
        Example(
            x.title, x.text, tuple(x.labels), weight=weight, authority=x.authority,
            group=f"{DISTRICT_GROUP}{i * LABEL_GROUPS // n}",
        )
        for i, x in enumerate(found)
    ]  # fmt: skip


def _predict(
    clf: ReportClassifier, target: str, rows: Sequence[labels.Label], config: Config
) -> list[list[str]]:
    out: list[list[str]] = []
    for x in rows:
        bureau = routing.authority_bureau(x.authority or None, config)
        p = clf.predict(x.title, x.text, authority_bureau=bureau)
        if target == DEPARTMENT:
            out.append([p.department] if p.department else [])
        else:
            out.append(list(p.issue_types))
    return out


def _classifier(model: LinearModel) -> ReportClassifier:
    if model.target == DEPARTMENT:
        return ReportClassifier(department=model)
    return ReportClassifier(issue_type=model)


def _train_config(target: str) -> Any:
    from classifiers.build_shipped import ISSUE_CONFIG, SHIPPED_CONFIG

    return SHIPPED_CONFIG if target == DEPARTMENT else ISSUE_CONFIG


def _base_examples(target: str) -> list[Example]:
    from classifiers.corpus import corpus_examples

    return corpus_examples(target)


def train_candidate(
    target: str,
    found: Sequence[labels.Label],
    config: Config,
    *,
    base: Callable[[str], list[Example]] | None = None,
    progress: Progress | None = None,
    label_weight: float = LABEL_WEIGHT,
) -> LinearModel:
    """The trainer of every retraining: the project's corpus plus the district's labels, with
    the shipped model's settings, the district's bureau names and remit keywords weighed."""
    examples = (base or _base_examples)(target) + _examples(found, label_weight)
    return train(
        examples,
        target,
        config=_train_config(target),
        progress=progress,
        authority_match=_matcher(config).match if target == DEPARTMENT else None,
        keywords=_keywords(config) if target == DEPARTMENT else None,
    )


def retrain(
    models_root: str | Path,
    found: dict[str, list[labels.Label]],
    config: Config,
    *,
    labels_upto: int = 0,
    settings: GateSettings | None = None,
    base: Callable[[str], list[Example]] | None = None,
    progress: Progress | None = None,
    label_weight: float = LABEL_WEIGHT,
    who: str = "feedback retrain",
    targets: Sequence[str] = TARGETS,
) -> RetrainReport:
    """Train a candidate per target on the corpus plus the labels, judge it against the model
    in use on the newest labels neither learned from, promote or keep it refused, and write the
    model history. ``base`` gives a target's corpus examples (tests pass a small one)."""
    settings = settings or GateSettings()
    base = base or _base_examples
    root = Path(models_root)
    root.mkdir(parents=True, exist_ok=True)
    current = current_model_dir(root) or SHIPPED_DIR
    old_name = model_versions.current_name(root)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".retrain-"))
    verdicts: list[Verdict] = []
    try:
        bundle = work / "bundle"
        candidates: dict[str, Path] = {}
        for target in targets:
            rows = [x for x in found.get(target, []) if _usable(target, x, config)]
            verdict, candidate = _one_target(
                target, rows, current, bundle, config, settings, base, progress,
                label_weight, old_name,
            )  # fmt: skip
            verdicts.append(verdict)
            if candidate is not None:
                candidates[target] = candidate
        if not candidates:
            report = RetrainReport(verdicts, old_name, labels_upto=labels_upto)
            _log(root, report, who)
            return report
        promoted = {v.target for v in verdicts if v.promoted}
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        # The bundle of the candidate: each trained target, the current model for the others.
        for target in TARGETS:
            if not (bundle / target).is_dir():
                shutil.copytree(current / target, bundle / target)
        if promoted:
            # What goes into use: the promoted targets, the current model for refused ones.
            final = work / "retrain"  # promote() names it <time>-retrain
            for target in TARGETS:
                source = bundle / target if target in promoted else current / target
                shutil.copytree(source, final / target)
            version = promote(final, root).name
            refused_targets = set(candidates) - promoted
            if refused_targets:
                _keep_refused(root, bundle, f"{version.split('-')[0]}-refused", verdicts)
            report = RetrainReport(verdicts, version, version, True, labels_upto)
        else:
            name = f"{stamp}-refused"
            _keep_refused(root, bundle, name, verdicts)
            report = RetrainReport(verdicts, old_name, name, False, labels_upto)
        _log(root, report, who, previous=old_name)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _keep_refused(root: Path, bundle: Path, name: str, verdicts: Sequence[Verdict]) -> None:
    import json

    target = root / model_versions.REFUSED / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundle, target)
    (target / "verdict.json").write_text(
        json.dumps([v.to_json() for v in verdicts], ensure_ascii=False, indent=2), "utf-8"
    )


def _log(root: Path, report: RetrainReport, who: str, previous: str | None = None) -> None:
    model_versions.append_history(
        root,
        {
            "event": "retrain",
            "by": who,
            "version": report.in_use if report.promoted else None,
            "candidate": report.candidate,
            "previous": previous,
            "promoted": report.promoted,
            "labels_upto": report.labels_upto,
            "verdicts": [v.to_json() for v in report.verdicts],
        },
    )


def _one_target(
    target: str,
    rows: list[labels.Label],
    current: Path,
    bundle: Path,
    config: Config,
    settings: GateSettings,
    base: Callable[[str], list[Example]],
    progress: Progress | None,
    label_weight: float,
    old_name: str,
) -> tuple[Verdict, Path | None]:
    what = model_gate.TARGET_NAMES[target]
    seen = model_versions.trained_label_ids(current, target)
    unseen = [x for x in rows if x.id not in seen]
    if len(unseen) < settings.min_holdout:
        reason = (
            f"未训练：现用模型之后只有 {len(unseen)} 条新的{what}标注，"
            f"少于公平比较所需的 {settings.min_holdout} 条。"
        )
        return Verdict(target, False, reason, skipped=True), None
    size = round(len(rows) * settings.holdout_fraction)
    size = max(settings.min_holdout, min(size, settings.max_holdout, len(unseen)))
    holdout = unseen[-size:]
    held = {x.id for x in holdout}
    learn = [x for x in rows if x.id not in held]
    model = train_candidate(target, learn, config, base=base, progress=progress,
                            label_weight=label_weight)  # fmt: skip
    span = {
        "label_ids": sorted(int(x.id or 0) for x in learn),
        "n_labels": len(learn),
        "first": learn[0].created_at.isoformat() if learn else None,
        "last": learn[-1].created_at.isoformat() if learn else None,
        "holdout_ids": sorted(int(x.id or 0) for x in holdout),
    }
    out = save_model(model, bundle / target, metrics={"trained_on": span})
    truth = [list(x.labels) for x in holdout]
    old_model = load_model(current / target, target)
    old = _predict(_classifier(old_model), target, holdout, config)
    new = _predict(_classifier(model), target, holdout, config)
    verdict = model_gate.judge(
        target, truth, old, new, settings, old_name=old_name, trained_labels=len(learn)
    )
    return verdict, out


async def gather(service: FeedbackService) -> tuple[dict[str, list[labels.Label]], int]:
    """The labels that count, per target, and the newest label id (read once, consistently)."""
    upto = await labels.latest_id(service.store)
    found = {t: await labels.effective(service.store, t, up_to_id=upto) for t in TARGETS}
    return found, upto


async def retrain_labels(
    service: FeedbackService, models_root: str | Path, **kw: Any
) -> RetrainReport:
    """Retrain from the service's labels (the training itself runs in a worker thread)."""
    found, upto = await gather(service)
    return await service.in_thread(
        lambda: retrain(models_root, found, service.config, labels_upto=upto, **kw)
    )


def _last_upto(models_root: str | Path) -> tuple[int, datetime | None]:
    for entry in reversed(model_versions.history(models_root)):
        if entry.get("event") == "retrain":
            at = entry.get("at")
            return int(entry.get("labels_upto") or 0), datetime.fromisoformat(at) if at else None
    return 0, None


async def auto_retrain(
    service: FeedbackService, models_root: str | Path, every: int, now: datetime, **kw: Any
) -> RetrainReport | None:
    """The background job's part: retrain when ``every`` labels arrived since the last
    retraining, or nightly when any did. ``every`` 0 turns it off."""
    if every <= 0:
        return None
    upto, last = _last_upto(models_root)
    new = await labels.count_after(service.store, upto)
    if new == 0:
        return None
    local = now.astimezone(ZoneInfo(service.config.timezone))
    nightly = NIGHT_HOURS[0] <= local.hour < NIGHT_HOURS[1] and (
        last is None or now - last > timedelta(hours=20)
    )
    if new < every and not nightly:
        return None
    log.info("retraining: %d new labels%s", new, " (nightly)" if nightly else "")

    def progress(stage: str, done: int, total: int) -> None:
        if done == total or done % max(1, total // 4) == 0:
            log.info("retraining: %s %d/%d", stage, done, total)

    report = await retrain_labels(
        service, models_root, progress=progress, who="background job", **kw
    )
    for line in report.lines():
        log.info("retraining: %s", line)
    return report


# -- a district's history ---------------------------------------------------------------------


@dataclass
class ImportReport:
    taken: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (CSV line, why)
    already: int = 0  # rows imported before (same title and text): not doubled

    def lines(self) -> list[str]:
        out = [f"导入 {self.taken} 行，拒收 {len(self.refused)} 行。"]
        out += [f"  第 {n} 行：{why}" for n, why in self.refused]
        if self.already:
            out.append(f"  另有 {self.already} 行此前已导入，未重复导入。")
        return out


def _department(value: str, config: Config) -> str | None:
    value = value.strip()
    if config.has_department(value):
        return value
    for d in config.departments:
        if value in (d.name, *d.aliases):
            return d.code
    return None


def _issue_types(value: str, config: Config) -> list[str] | None:
    names = {t.name: t.code for t in config.issue_types}
    out: list[str] = []
    for part in value.replace("，", "|").replace(",", "|").split("|"):
        part = part.strip()
        if not part or part in ("none", "无"):
            continue
        code = part if part in config.issue_type_codes else names.get(part)
        if code is None:
            return None
        out.append(code)
    return list(dict.fromkeys(out))


def _time(value: str, config: Config) -> datetime | None:
    text = value.strip().replace("/", "-")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(config.timezone))
    return parsed.astimezone(UTC)


def _row(
    row: dict[str, str], config: Config, now: datetime
) -> tuple[str, str, str, list[str], datetime] | str:
    """(title, text, department, issue types, time) of one CSV row, or why it is refused."""
    text, title = row.get("text", "").strip(), row.get("title", "").strip()
    if len(text) < 5:
        return "诉求内容为空或过短"
    if len(text) > 20000 or len(title) > 200:
        return "诉求内容或标题过长"
    dept = _department(row.get("department", ""), config)
    if dept is None:
        return f"未知的承办单位：{row.get('department', '')!r}"
    types = _issue_types(row.get("issue_types", ""), config)
    if types is None:
        return f"未知的问题类型：{row.get('issue_types', '')!r}"
    try:
        at = _time(row["time"], config) if row.get("time", "").strip() else now
    except ValueError:
        return f"时间无法识别：{row.get('time')!r}（应为 2024-05-01 09:30）"
    if at is None or at > now + timedelta(days=1):
        return "时间在未来"
    return title, text, dept, types, at


def read_history(
    path: str | Path, config: Config, actor: Actor, now: datetime
) -> tuple[list[labels.Label], ImportReport]:
    """Read a district's past work orders (columns text, title?, department, issue_types?,
    time?): labels for the rows taken, a reason for each row refused."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = {c.strip() for c in reader.fieldnames or []}
            raw_rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"无法读取文件（需要 UTF-8 编码的 CSV）：{exc}") from exc
    missing = {"text", "department"} - columns
    if missing:
        raise ValueError(f"缺少必需的列：{', '.join(sorted(missing))}（需要 text, department）")
    report = ImportReport()
    out: list[labels.Label] = []
    seen: set[tuple[str, str]] = set()
    for n, raw in enumerate(raw_rows, 2):
        row = {(k or "").strip(): v for k, v in raw.items() if isinstance(v, str)}
        found = _row(row, config, now)
        if isinstance(found, str):
            report.refused.append((n, found))
            continue
        title, text, dept, types, at = found
        if (title, text) in seen:
            report.refused.append((n, "与前面的行重复"))
            continue
        seen.add((title, text))
        targets = [(DEPARTMENT, [dept])]
        if "issue_types" in columns:
            targets.append((ISSUE_TYPE, types))
        for target, given in targets:
            out.append(labels.Label(target=target, title=title, text=text, labels=given,
                                    predicted=[], source="import", actor_id=actor.id,
                                    created_at=at))  # fmt: skip
        report.taken += 1
    return out, report


async def import_history(service: FeedbackService, path: str | Path, actor: Actor) -> ImportReport:
    """Seed the labels from a district's past work orders; rows already imported (same title
    and text) are refused, not doubled."""
    found, report = read_history(path, service.config, actor, service.clock())
    before = await labels.texts_from(service.store, "import")
    fresh = [x for x in found if (x.title, x.text) not in before]
    report.already = len({(x.title, x.text) for x in found}) - len(
        {(x.title, x.text) for x in fresh}
    )
    report.taken -= report.already
    async with service.store.transaction() as tx:
        await labels.record_all(tx, fresh)
    return report

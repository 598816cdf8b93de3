"""`sales-assistant bench nlp`: every configured NLP model side by side on one data set, one run.

- closing: each closing detector (the built-in list, the learned model alone, rules + model) on the
  test split and the hard set (models/lab/closing/data),
  or one named set or JSONL file of {"text", "label"}: needs-answer recall first, closing recall,
  accuracy, the share of lines that reached the model, and labels per second on one core over the demo
  day's customer texts (a realistic mix), median of three calls.
- csc: each typo corrector (ours and pycorrector's own Kenlm-CSC on the same language model) on
  SIGHAN-2015 (shipped by pycorrector, evaluation only), pycorrector's corpus500 (real typos, evaluation
  only), our own dev split, or a TSV of src\\ttgt.
- staff: the staff checks as the pipeline runs them (typos and phrasing, roster words and the product
  vocabulary known) on every staff text message of the demo day (config/demo), against the committed
  labels (config/demo/staff_labels.tsv: 1 = a reviewer wants it flagged). Its false-alarm figure is the
  share of all staff messages flagged wrongly (target ≤ 2%).
Precision/recall/F1 at sentence level follow pycorrector's definition (cross-checked against its
own eval function), plus character level, false alarms on correct inputs, and items per second.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sales_assistant.core.roster import Roster

CLOSING_DATASETS = ("test", "dev", "train", "all", "hard", "fresh-r1", "fresh", "fresh-r3", "fresh-r4", "fresh-r5")
CLOSING_DEFAULT = ("test", "hard")  # the sets issue 14's targets hold on; "fresh-r5" is read once per release
TASKS = ("closing", "csc", "staff", "all")
STAFF_LABELS = "staff_labels.tsv"  # in config/demo: one line per demo staff message, id<TAB>label<TAB>text


def demo_customer_texts() -> list[str]:
    """Every text a customer wrote on the demo day (config/demo), in time order: the realistic mix of
    acknowledgements, questions and free text that the closing labels are timed on."""
    from sales_assistant.config.settings import CONFIG_DIR, load_roster_file
    from sales_assistant.connectors.replay import read_replay
    from sales_assistant.core.messages import Message, MessageType

    roster = load_roster_file(CONFIG_DIR / "demo" / "roster.json").to_roster()
    items = read_replay(CONFIG_DIR / "demo" / "messages.jsonl").items
    return [m.text for m in items if isinstance(m, Message) and m.type == MessageType.TEXT and m.text
            and not m.from_bot and roster.role_of(m.sender_id) is None]


def closing_detectors() -> list[tuple[str, object]]:
    """The registered detectors. (The three-member ensemble of issue 9 is gone: the retrained model of
    issue 14 ships one member; MODEL_CARD.md keeps the earlier figures.)"""
    from sales_assistant.models.closing import KNOWN_DETECTORS, load_closing_detector

    return [(name, load_closing_detector(name, threads=1)) for name in KNOWN_DETECTORS]


def closing_speed(detector, texts: list[str], runs: int = 3) -> tuple[float, float]:  # noqa: ANN001
    """Labels per second on `texts` (median of `runs` calls on one thread) and the share that reached the model."""
    import statistics
    import time

    rates = []
    stats = getattr(detector, "stats", None)
    before = (stats["lines"], stats["model"]) if stats is not None else (0, 0)
    for _ in range(runs):
        started = time.perf_counter()
        detector.scores(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    if stats is None:
        return statistics.median(rates), 1.0
    lines, model = stats["lines"] - before[0], stats["model"] - before[1]
    return statistics.median(rates), model / lines if lines else 0.0


def closing_rows(dataset: str | None) -> list[dict]:
    """Each detector on each set (default: the test split and the hard set): needs-answer recall first
    (issue 14), closing recall, accuracy; and its speed on the demo day's customer texts, one core."""
    from sales_assistant.models.lab.closing.evaluate import evaluate, rows_of

    datasets = CLOSING_DEFAULT if dataset is None else (dataset,)
    sets = {}
    for name in datasets:
        if name in CLOSING_DATASETS:
            sets[name] = rows_of(name)
            continue
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"--dataset: {name!r} is neither a set ({', '.join(CLOSING_DATASETS)}) nor a file")
        import orjson

        sets[name] = [{"id": str(i), "kind": "", **orjson.loads(line)} for i, line in
                      enumerate(path.read_bytes().splitlines()) if line.strip()]
    mix = demo_customer_texts()
    out = []
    for model, detector in closing_detectors():
        rate, reached = closing_speed(detector, mix)
        for name, rows in sets.items():
            m = evaluate(detector, rows, speed_lines=0)
            negatives = m["tn"] + m["fp"]
            out.append({"task": "closing", "model": model, "dataset": name, "n": m["n"],
                        "threshold": detector.threshold,
                        "needs_answer_recall": m["needs_answer_recall"], "closing_recall": m["closing_recall"],
                        "precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "accuracy": m["accuracy"],
                        "false_alarm_rate": m["fp"] / negatives if negatives else 0.0,
                        "speed_mix": f"demo-day customer texts ({len(mix)})", "items_per_second": rate,
                        "reached_model_share": reached})
    return out


def csc_rows(dataset: str, limit: int | None) -> list[dict]:
    from sales_assistant.models.lab.typo import EVALUATED
    from sales_assistant.models.lab.typo.datasets import dataset_pairs
    from sales_assistant.models.lab.typo.evaluate import evaluate

    pairs = dataset_pairs(dataset)[:limit]
    out = []
    for name in EVALUATED:
        m = evaluate(name, pairs, crosscheck=True)
        out.append({"task": "csc", "model": name, "dataset": dataset, "n": m["sentences"],
                    "precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "accuracy": m["acc"],
                    "char_precision": m["char_cor_p"], "char_recall": m["char_cor_r"], "char_f1": m["char_cor_f1"],
                    "false_alarm_rate": m["false_alarm_rate"], "items_per_second": m["sentences_per_s"]})
    return out


def demo_staff_messages() -> tuple[list, Roster]:
    """Every text a staff member (not the bot) wrote on the demo day, in time order: what the shards
    hand to the staff checks (actors/shard.py)."""
    from sales_assistant.config.settings import CONFIG_DIR, load_roster_file
    from sales_assistant.connectors.replay import read_replay
    from sales_assistant.core.messages import Message, MessageType
    from sales_assistant.core.roster import Role

    roster = load_roster_file(CONFIG_DIR / "demo" / "roster.json").to_roster()
    items = read_replay(CONFIG_DIR / "demo" / "messages.jsonl").items
    return [m for m in items if isinstance(m, Message) and m.type == MessageType.TEXT and m.text
            and not m.from_bot and roster.role_of(m.sender_id) not in (None, Role.BOT)], roster


def read_staff_labels(path: Path | None = None) -> dict[str, int]:
    """message id -> 1 (a reviewer wants it flagged) or 0, from the committed label file."""
    from sales_assistant.config.settings import CONFIG_DIR

    path = path or CONFIG_DIR / "demo" / STAFF_LABELS
    labels: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        ident, label, *_ = line.split("\t")
        if label not in ("0", "1"):
            raise ValueError(f"{path}, line {number}: label must be 0 or 1, not {label!r}")
        labels[ident] = int(label)
    return labels


def staff_check(typo_model: str | None = None, knowing: bool = True) -> dict:
    """The staff checks on the demo day against the labels: counts, and each message flagged wrongly.
    `knowing` False: the checks as they ran before issue 14 (no product vocabulary, no colleagues, no team
    names; only names, topics and the domain words protected), the baseline measured in the same run."""
    import time

    from sales_assistant.config.settings import load_settings
    from sales_assistant.models.analysis import load_analyzer, roster_words

    messages, roster = demo_staff_messages()
    labels = read_staff_labels()
    unlabelled = [m.id for m in messages if m.id not in labels]
    if unlabelled:
        raise ValueError(f"{STAFF_LABELS}: no label for demo staff messages {', '.join(unlabelled[:5])}")
    settings = load_settings()
    protected, names = roster_words(roster)
    model = typo_model or settings.nlp.typo_model
    if not knowing:
        protected = names + [r.topic for r in roster.rooms.values() if r.topic]
    analyzer = load_analyzer("keywords", typo_model=model, protected_words=protected + list(settings.nlp.domain_words),
                             known_words=None if knowing else (), colleagues=names if knowing else (), lang="zh")
    started = time.perf_counter()
    verdicts = analyzer.analyze([m.text for m in messages], [True] * len(messages))
    seconds = time.perf_counter() - started
    flagged = [(m, v) for m, v in zip(messages, verdicts, strict=True) if v.flagged]
    wrong = [(m, v) for m, v in flagged if labels[m.id] == 0]
    missed = [m for m, v in zip(messages, verdicts, strict=True) if labels[m.id] == 1 and not v.flagged]
    label = f"{model}+phrasing" if knowing else f"{model}+phrasing, before (no vocabulary, colleagues, teams)"
    return {"model": label, "n": len(messages), "flagged": len(flagged), "wrongly_flagged": len(wrong),
            "positives": sum(labels[m.id] for m in messages), "missed": len(missed),
            "wrong": [{"id": m.id, "text": m.text, "typos": [t.wrong + "→" + t.suggestion for t in v.typos],
                       "phrasing": [f.kind for f in v.phrasing]} for m, v in wrong],
            "items_per_second": len(messages) / seconds if seconds else 0.0}


def staff_rows() -> list[dict]:
    """The staff checks as shipped, then as they ran before issue 14 (the baseline, same run)."""
    rows = []
    for knowing in (True, False):
        c = staff_check(knowing=knowing)
        true = c["flagged"] - c["wrongly_flagged"]
        precision = true / c["flagged"] if c["flagged"] else 1.0
        recall = true / c["positives"] if c["positives"] else 1.0
        rows.append({"task": "staff", "model": c["model"], "dataset": "demo-day", "n": c["n"], "precision": precision,
                     "recall": recall, "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
                     "accuracy": 1 - (c["wrongly_flagged"] + c["missed"]) / c["n"],
                     "false_alarm_rate": c["wrongly_flagged"] / c["n"], "flagged": c["flagged"],
                     "wrongly_flagged": c["wrongly_flagged"], "missed": c["missed"], "wrong": c["wrong"],
                     "items_per_second": c["items_per_second"]})
    return rows


def run_nlp_benchmark(task: str, dataset: str | None, limit: int | None = None, pin: bool = True) -> list[dict]:
    if task not in TASKS:
        raise ValueError(f"--task: {', '.join(TASKS[:-1])} or all, not {task!r}")
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # "one CPU core", as the targets say
    rows = []
    if task in ("closing", "all"):
        rows += closing_rows(dataset if task == "closing" else None)
    if task in ("csc", "all"):
        rows += csc_rows(dataset if task == "csc" and dataset else "sighan2015", limit)
    if task in ("staff", "all"):
        rows += staff_rows()
    return rows


def closing_markdown(rows: list[dict]) -> str:
    lines = ["| closing model | dataset | n | threshold | needs-answer recall | closing recall | accuracy | "
             "reached the model | labels/s, 1 core |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['dataset']} | {r['n']} | {r['threshold']:.2f} | "
                     f"{r['needs_answer_recall']:.1%} | {r['closing_recall']:.1%} | {r['accuracy']:.1%} | "
                     f"{r['reached_model_share']:.0%} | {r['items_per_second']:,.0f} |")
    return "\n".join(lines) + "\n"


SECTION = "<!-- bench nlp: {} -->"
SECTION_RE = re.compile(r"<!-- bench nlp: (.+?) -->\n(.*?)(?=<!-- bench nlp: |\Z)", re.S)
CAPTIONS = {"staff": "False alarms: the share of all staff messages flagged wrongly, against "
                     "`config/demo/staff_labels.tsv` (target ≤ 2%).\n\n"}


def results_markdown(existing: str, rows: list[dict], day: str) -> str:
    """The results file with this run's sections rewritten (one per task and its data sets) and every other
    section kept as it was, so that `--task closing` does not drop the typo and staff figures."""
    sections = dict(SECTION_RE.findall(existing))
    for task in TASKS[:-1]:
        mine = [r for r in rows if r["task"] == task]
        if mine:
            on = ", ".join(dict.fromkeys(r["dataset"] for r in mine))
            sections[f"{task} on {on}"] = (f"## `sales-assistant bench nlp --task {task}` on {on} ({day})\n\n"
                                           f"{CAPTIONS.get(task, '')}{markdown(mine)}\n")
    return "".join(SECTION.format(key) + "\n" + text for key, text in sections.items())


def markdown(rows: list[dict]) -> str:
    closing = [r for r in rows if r["task"] == "closing"]
    rows = [r for r in rows if r["task"] != "closing"]
    if closing:
        head = closing_markdown(closing)
        return head if not rows else head + "\n" + markdown(rows)
    lines = ["| task | model | dataset | n | precision | recall | F1 | char P / R / F1 | false alarms | items/s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        char = (f"{r['char_precision']:.3f} / {r['char_recall']:.3f} / {r['char_f1']:.3f}"
                if "char_f1" in r else "—")
        lines.append(f"| {r['task']} | {r['model']} | {r['dataset']} | {r['n']} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['f1']:.3f} | {char} | {r['false_alarm_rate']:.1%} | "
                     f"{r['items_per_second']:,.0f} |")
    return "\n".join(lines) + "\n"

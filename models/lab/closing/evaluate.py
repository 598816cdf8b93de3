"""Every registered closing detector side by side on one split of the shipped set.

    python -m sales_assistant.models.lab.closing.evaluate                 # test split, a table
    python -m sales_assistant.models.lab.closing.evaluate --split dev --errors
    python -m sales_assistant.models.lab.closing.evaluate --json          # one JSON object for scripts
    python -m sales_assistant.models.lab.closing.evaluate --split hard    # the hard set (eval_sets.py)
    python -m sales_assistant.models.lab.closing.evaluate --choose-threshold   # writes config.json "serving"

The positive class is "closing" (label 1): precision is how often a stopped clock was right to stop,
recall how many closing replies were recognised. Issue 14's objective is lopsided, so the figure that
comes first is `needs_answer_recall`: the share of lines that need an answer and start a clock (a miss
silences a customer; a false alarm costs a rep one click). Speed is messages per second through
`scores()` on one thread, the split's lines repeated to at least `--speed-lines` messages.

`--choose-threshold` picks the serving threshold on dev and the selection sets (the test split, the
hard set and the four fresh sets already read, fresh-r1, fresh, fresh-r3 and fresh-r4): among `THRESHOLDS`, the
one with the best worst-set closing recall whose needs-answer recall is at least `NEEDS_ANSWER_FLOOR` on
every set (0.985: the issue's 98% and half a point of room for new lines). The held-out set of this
round, fresh-r5, is never read here.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sales_assistant.models.closing import KNOWN_DETECTORS, ClosingDetector, load_closing_detector
from sales_assistant.models.lab.closing.build_dataset import DATA, load
from sales_assistant.models.lab.closing.eval_sets import FRESH, FRESH_R1, FRESH_R3, FRESH_R4, FRESH_R5, HARD, load_set

SPLITS = ("train", "dev", "test", "all", "hard", "fresh-r1", "fresh", "fresh-r3", "fresh-r4", "fresh-r5")
# What the threshold is chosen on: dev (the served model is fitted on train only) and every set that has
# been read: fresh-r1, fresh, fresh-r3 and fresh-r4 were each read once as held-out sets, then used to
# choose (MODEL_CARD.md).
SELECTION_SETS = ("dev", "test", "hard", "fresh-r1", "fresh", "fresh-r3", "fresh-r4")
NEEDS_ANSWER_FLOOR = 0.985
# 0.5 … 0.95, then finer steps up to 0.99 (set before the retrain: a lopsided loss moves scores up the scale)
THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10)) + (0.96, 0.97, 0.98, 0.99)


def classification_metrics(labels: Sequence[int], predicted: Sequence[int]) -> dict[str, float | int]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 1)
    tn = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 0 and p == 0)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 0 and p == 1)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 0)
    n = len(labels)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": n, "accuracy": (tp + tn) / n if n else 0.0, "precision": precision, "recall": recall, "f1": f1,
            "needs_answer_recall": tn / (tn + fp) if tn + fp else 0.0, "closing_recall": recall,
            "tp": tp, "tn": tn, "fp": fp, "fn": fn}


def rows_of(name: str, data: Path = DATA) -> list[dict]:
    """A split of the shipped set ("test", …, "all"), the hard set ("hard"), the fresh sets of rounds 1
    to 4, read and then chosen on ("fresh-r1", "fresh", "fresh-r3", "fresh-r4"), or this round's held-out
    set ("fresh-r5")."""
    if name == "hard":
        return load_set(HARD)
    if name == "fresh-r5":
        return load_set(FRESH_R5)
    if name == "fresh-r4":
        return load_set(FRESH_R4)
    if name == "fresh-r3":
        return load_set(FRESH_R3)
    if name == "fresh":
        return load_set(FRESH)
    if name == "fresh-r1":
        return load_set(FRESH_R1)
    if name not in SPLITS:
        raise ValueError(f"unknown set {name!r}; known: {', '.join(SPLITS)}")
    return load(data, None if name == "all" else name)


def choose_threshold(scored: dict[str, tuple[list[float], list[int]]], floor: float = NEEDS_ANSWER_FLOOR,
                     thresholds: Sequence[float] = THRESHOLDS) -> tuple[float, list[dict]]:
    """Needs-answer recall first: the threshold whose needs-answer recall is at least `floor` on every
    set and whose worst closing recall is highest (the lowest such threshold on a tie). When none
    reaches the floor everywhere, the one with the highest worst-set needs-answer recall, then the
    highest worst closing recall: a model must still serve, and the safest threshold is the one that
    silences the fewest requests (its rows say "ok": False; the caller records that the floor was
    missed). `scored` maps a set's name to its (scores, labels). Returns the threshold and the figures
    of every candidate."""
    table = []
    for t in thresholds:
        row: dict = {"threshold": t}
        for name, (scores, labels) in scored.items():
            m = classification_metrics(labels, [int(s >= t) for s in scores])
            row[name] = {"needs_answer_recall": m["needs_answer_recall"], "closing_recall": m["closing_recall"]}
        row["ok"] = all(row[name]["needs_answer_recall"] >= floor for name in scored)
        row["worst_needs_answer_recall"] = min(row[name]["needs_answer_recall"] for name in scored)
        row["worst_closing_recall"] = min(row[name]["closing_recall"] for name in scored)
        table.append(row)
    feasible = [r for r in table if r["ok"]]
    if feasible:
        best = max(feasible, key=lambda r: (r["worst_closing_recall"], -r["threshold"]))
    else:
        best = max(table, key=lambda r: (r["worst_needs_answer_recall"], r["worst_closing_recall"], -r["threshold"]))
    return best["threshold"], table


def write_serving(artifacts: Path, members: int, threshold: float, chosen_on: Sequence[str],
                  floor_met: bool = True, rule_pick: float | None = None) -> None:
    """config.json's "serving": what the detector runs by default, and whether the needs-answer floor
    held on every set it was chosen on; `rule_pick` records the rule's choice when another is served."""
    path = artifacts / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["serving"] = {"members": members, "threshold": threshold, "chosen_on": list(chosen_on),
                         "needs_answer_recall_floor": NEEDS_ANSWER_FLOOR, "floor_met": floor_met}
    if rule_pick is not None and rule_pick != threshold:
        config["serving"]["rule_pick"] = rule_pick
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def evaluate(detector: ClosingDetector, rows: list[dict], speed_lines: int = 1000) -> dict:
    texts = [r["text"] for r in rows]
    scores = detector.scores(texts)
    predicted = [int(s >= detector.threshold) for s in scores]
    result = classification_metrics([r["label"] for r in rows], predicted)
    result["errors"] = [
        {"text": r["text"], "label": r["label"], "score": round(s, 4), "kind": r["kind"], "id": r["id"]}
        for r, s, p in zip(rows, scores, predicted, strict=True) if p != r["label"]]
    if speed_lines and texts:
        batch = (texts * (speed_lines // len(texts) + 1))[:max(speed_lines, len(texts))]
        started = time.perf_counter()
        detector.scores(batch)
        result["msgs_per_s"] = len(batch) / (time.perf_counter() - started)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare the closing detectors on one split.")
    parser.add_argument("--split", default="test", choices=SPLITS,
                        help="fresh-r5: the held-out set, read once per release for the final figure")
    parser.add_argument("--choose-threshold", action="store_true",
                        help="choose the serving threshold on the selection sets; write config.json")
    parser.add_argument("--members", type=int, default=1, help="with --choose-threshold: members to serve")
    parser.add_argument("--serve", type=float, choices=THRESHOLDS, metavar="THRESHOLD",
                        help="with --choose-threshold: serve this candidate instead of the rule's pick (a more "
                             "cautious one, say); config.json records both")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--detectors", nargs="+", default=list(KNOWN_DETECTORS), choices=KNOWN_DETECTORS)
    parser.add_argument("--speed-lines", type=int, default=1000, help="messages timed per detector (0: skip)")
    parser.add_argument("--errors", action="store_true", help="list the misclassified lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)

    if args.choose_threshold:
        return _choose(args.members, args.serve)
    rows = rows_of(args.split, args.data)
    results = {name: evaluate(load_closing_detector(name, threads=1), rows, args.speed_lines)
               for name in args.detectors}
    if args.json:
        print(json.dumps({"split": args.split, "n": len(rows), "detectors": results}, ensure_ascii=False, indent=2))
        return 0

    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"closing detectors on {args.split} ({len(rows)} lines, "
                        f"{sum(r['label'] for r in rows)} closing)")
    for column in ("detector", "needs-answer recall", "closing recall", "accuracy", "precision", "F1", "FP", "FN",
                   "msgs/s"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, m in results.items():
        table.add_row(name, f"{m['needs_answer_recall']:.2%}", f"{m['closing_recall']:.2%}", f"{m['accuracy']:.2%}",
                      f"{m['precision']:.2%}", f"{m['f1']:.3f}",
                      str(m["fp"]), str(m["fn"]), f"{m['msgs_per_s']:,.0f}" if "msgs_per_s" in m else "–")
    console.print(table)
    if args.errors:
        for name, m in results.items():
            errors = Table(title=f"{name}: {len(m['errors'])} errors")
            for column in ("label", "score", "kind", "text"):
                errors.add_column(column)
            for e in m["errors"]:
                errors.add_row(str(e["label"]), f"{e['score']:.3f}", e["kind"], repr(e["text"]))
            console.print(errors)
    return 0


def _choose(members: int, serve: float | None = None) -> int:
    from sales_assistant.models.closing.learned import ARTIFACTS, LearnedClosing

    detector = LearnedClosing(members=members, threshold=0.5)
    scored = {}
    for name in SELECTION_SETS:
        rows = rows_of(name)
        scored[name] = (detector.scores([r["text"] for r in rows]), [r["label"] for r in rows])
    threshold, table = choose_threshold(scored)
    for row in table:
        figures = "  ".join(f"{n}: needs {row[n]['needs_answer_recall']:.1%} closing {row[n]['closing_recall']:.1%}"
                            for n in scored)
        print(f"{row['threshold']:.2f}  {figures}  {'ok' if row['ok'] else '--'}")
    floor_met = any(row["ok"] for row in table)
    if not floor_met:
        print(f"WARNING: no threshold keeps needs-answer recall >= {NEEDS_ANSWER_FLOOR:.1%} on every set; "
              "serving the one with the best worst-set needs-answer recall")
    served = threshold if serve is None else serve
    if served != threshold:
        floor_met = next(row["ok"] for row in table if row["threshold"] == served)
        print(f"the rule picks {threshold}; serving {served} as asked (--serve)")
    write_serving(ARTIFACTS, members, served, SELECTION_SETS, floor_met, rule_pick=threshold)
    print(f"threshold {served} with {members} member(s) -> {ARTIFACTS / 'config.json'}")
    refresh_metrics(ARTIFACTS)
    return 0


def refresh_metrics(artifacts: Path) -> None:
    """metrics.json's figures and errors on the test split, for the detector as it now serves; the
    training record is kept."""
    from types import SimpleNamespace

    from sales_assistant.models.lab.closing.train import metrics_report

    path = artifacts / "metrics.json"
    metrics = json.loads(path.read_text(encoding="utf-8"))
    metrics.update(metrics_report(SimpleNamespace(report_split="test", out=artifacts, threads=1), rows_of("test"),
                                  classification_metrics))
    path.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

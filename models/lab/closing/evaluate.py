"""Every registered closing detector side by side on one split of the shipped set.

    python -m sales_assistant.models.lab.closing.evaluate                 # test split, a table
    python -m sales_assistant.models.lab.closing.evaluate --split dev --errors
    python -m sales_assistant.models.lab.closing.evaluate --json          # one JSON object for scripts

The positive class is "closing" (label 1): precision is how often a stopped clock was right to stop,
recall how many closing replies were recognised. Speed is messages per second through
`scores()` on one thread, the split's lines repeated to at least `--speed-lines` messages.
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
            "tp": tp, "tn": tn, "fp": fp, "fn": fn}


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
    parser.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--detectors", nargs="+", default=list(KNOWN_DETECTORS), choices=KNOWN_DETECTORS)
    parser.add_argument("--speed-lines", type=int, default=1000, help="messages timed per detector (0: skip)")
    parser.add_argument("--errors", action="store_true", help="list the misclassified lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)

    rows = load(args.data, None if args.split == "all" else args.split)
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
    for column in ("detector", "accuracy", "precision", "recall", "F1", "FP", "FN", "msgs/s"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, m in results.items():
        table.add_row(name, f"{m['accuracy']:.2%}", f"{m['precision']:.2%}", f"{m['recall']:.2%}", f"{m['f1']:.3f}",
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


if __name__ == "__main__":
    sys.exit(main())

"""`sales-assistant bench nlp`: every configured NLP model side by side on one data set, one run.

- closing: each closing detector (the built-in list, the learned model alone, rules + model) on a
  split of the shipped labelled set (models/lab/closing/data) or a JSONL file of {"text", "label"}.
- csc: each typo corrector (ours and pycorrector's own Kenlm-CSC on the same language model) on
  SIGHAN-2015 (shipped by pycorrector, evaluation only), pycorrector's corpus500 (real typos, evaluation
  only), our own dev split, or a TSV of src\\ttgt.
Precision/recall/F1 at sentence level follow pycorrector's definition (cross-checked against its
own eval function), plus character level, false alarms on correct inputs, and items per second.
"""
from __future__ import annotations

import os
from pathlib import Path

CLOSING_DATASETS = ("test", "dev", "train", "all")


def closing_rows(dataset: str) -> list[dict]:
    from sales_assistant.models.closing import KNOWN_DETECTORS, load_closing_detector
    from sales_assistant.models.lab.closing.build_dataset import DATA, load
    from sales_assistant.models.lab.closing.evaluate import evaluate

    if dataset in CLOSING_DATASETS:
        rows = load(DATA, None if dataset == "all" else dataset)
    else:
        path = Path(dataset)
        if not path.is_file():
            raise ValueError(f"--dataset: {dataset!r} is neither a split ({', '.join(CLOSING_DATASETS)}) nor a file")
        import orjson

        rows = [{"id": str(i), "kind": "", **orjson.loads(line)} for i, line in
                enumerate(path.read_bytes().splitlines()) if line.strip()]
    out = []
    for name in KNOWN_DETECTORS:
        m = evaluate(load_closing_detector(name, threads=1), rows)
        negatives = m["tn"] + m["fp"]
        out.append({"task": "closing", "model": name, "dataset": dataset, "n": m["n"],
                    "precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "accuracy": m["accuracy"],
                    "false_alarm_rate": m["fp"] / negatives if negatives else 0.0,
                    "items_per_second": m.get("msgs_per_s", 0.0)})
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


def run_nlp_benchmark(task: str, dataset: str | None, limit: int | None = None, pin: bool = True) -> list[dict]:
    if task not in ("closing", "csc", "all"):
        raise ValueError(f"--task: closing, csc or all, not {task!r}")
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # "one CPU core", as the targets say
    rows = []
    if task in ("closing", "all"):
        rows += closing_rows(dataset or "test")
    if task in ("csc", "all"):
        rows += csc_rows(dataset if task == "csc" and dataset else "sighan2015", limit)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| task | model | dataset | n | precision | recall | F1 | char P / R / F1 | false alarms | items/s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        char = (f"{r['char_precision']:.3f} / {r['char_recall']:.3f} / {r['char_f1']:.3f}"
                if "char_f1" in r else "—")
        lines.append(f"| {r['task']} | {r['model']} | {r['dataset']} | {r['n']} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['f1']:.3f} | {char} | {r['false_alarm_rate']:.1%} | "
                     f"{r['items_per_second']:,.0f} |")
    return "\n".join(lines) + "\n"

"""Evaluate typo correctors side by side; anyone can rerun it.

    python -m sales_assistant.models.lab.typo.evaluate --dataset sighan2015 [--limit N] [--json]
        [--correctors ngram,kenlm-csc] [--no-pin] [--no-crosscheck]

``--dataset`` is a name of datasets.py: ``sighan2015`` (SIGHAN-2015's test file, evaluation only),
``corpus500`` (pycorrector's own real typos, evaluation only), ``dev`` (our own synthetic check pairs,
see tune.py) or a path to a TSV of ``source<TAB>target`` lines.

For each corrector: sentence-level accuracy/P/R/F1 as pycorrector defines them (and, unless
``--no-crosscheck``, pycorrector's own ``eval_model_batch`` run on the same predictions, which
must agree), character-level detection and correction P/R/F1, the false-alarm rate on correct
sentences, and sentences per second. Unless ``--no-pin``, the process is pinned to one CPU core
and numeric libraries to one thread, so the speed is that of one core. Load time is not counted.
"""
from __future__ import annotations

import os

if os.environ.get("SA_EVAL_PIN", "1") == "1":  # before numpy / torch start their thread pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time

from sales_assistant.models.lab.typo import BASELINE, EVALUATED, load_corrector, metrics
from sales_assistant.models.lab.typo.datasets import dataset_pairs


def pycorrector_crosscheck(pairs: list[tuple[str, str]], preds: list[str]) -> tuple[float, float, float, float]:
    """pycorrector's eval_model_batch on our predictions: (acc, precision, recall, f1)."""
    from pycorrector.utils.evaluate_utils import eval_model_batch

    with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8", delete=False) as f:
        for s, t in pairs:
            f.write(f"{s}\t{t}\n")
        tsv = f.name
    try:
        lookup = dict(zip((s for s, _ in pairs), preds))
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a line per sentence
            return eval_model_batch(lambda srcs: [lookup[s] for s in srcs], input_tsv_file=tsv, verbose=False)
    finally:
        os.unlink(tsv)


def evaluate(name: str, pairs: list[tuple[str, str]], crosscheck: bool = True) -> dict:
    t0 = time.perf_counter()
    corrector = load_corrector(name)
    load_s = time.perf_counter() - t0
    srcs = [s for s, _ in pairs]
    corrector.correct(srcs[:3])  # warm caches, as a long-running service would be
    t0 = time.perf_counter()
    results = corrector.correct(srcs)
    elapsed = time.perf_counter() - t0
    preds = [text for text, _ in results]
    s = metrics.score(srcs, [t for _, t in pairs], preds)
    row = {"corrector": name, **s.as_dict(), "sentences_per_s": len(srcs) / elapsed, "load_s": load_s}
    if crosscheck:
        acc, p, r, f1 = pycorrector_crosscheck(pairs, preds)
        row["pycorrector_eval"] = {"acc": acc, "precision": p, "recall": r, "f1": f1}
        if max(abs(acc - s.acc), abs(p - s.precision), abs(r - s.recall), abs(f1 - s.f1)) > 1e-9:
            raise AssertionError(f"our sentence metrics disagree with pycorrector's: {row}")
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="sighan2015")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--correctors", default=",".join(EVALUATED))
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU core")
    parser.add_argument("--no-crosscheck", action="store_true", help="skip pycorrector's own eval function")
    args = parser.parse_args(argv)

    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pairs = dataset_pairs(args.dataset)[: args.limit]
    rows = []
    for name in [c.strip() for c in args.correctors.split(",") if c.strip()]:
        rows.append(evaluate(name, pairs, crosscheck=not args.no_crosscheck))
        if name == BASELINE:
            with contextlib.suppress(ImportError):
                import torch  # the baseline imported it; keep it to one thread as well

                torch.set_num_threads(1)
    negatives = sum(1 for s, t in pairs if s == t)
    doc = {"dataset": args.dataset, "pairs": len(pairs), "correct_sentences": negatives,
           "pinned_to_one_core": not args.no_pin, "results": rows}
    if args.json:
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.dataset}: {len(pairs)} pairs ({negatives} need no change)")
    cols = [("sent P", "precision"), ("sent R", "recall"), ("sent F1", "f1"), ("false alarms", "false_alarm_rate"),
            ("char det F1", "char_det_f1"), ("char cor P", "char_cor_p"), ("char cor R", "char_cor_r"),
            ("char cor F1", "char_cor_f1")]
    table.add_column("corrector")
    for title, _ in cols:
        table.add_column(title, justify="right")
    table.add_column("sent/s", justify="right")
    for row in rows:
        table.add_row(row["corrector"], *(f"{row[k]:.4f}" for _, k in cols), f"{row['sentences_per_s']:.1f}")
    Console(width=160).print(table)
    print("TP/FP/FN/TN: " + "; ".join(f"{r['corrector']} {r['tp']}/{r['fp']}/{r['fn']}/{r['tn']}" for r in rows))


if __name__ == "__main__":
    main()

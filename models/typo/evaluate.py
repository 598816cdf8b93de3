"""Evaluate typo correctors side by side; anyone can rerun it.

    python -m models.typo.evaluate --dataset sighan2015 [--limit N] [--json]
        [--correctors ngram,kenlm-csc] [--no-pin] [--no-crosscheck]

``sighan2015`` is the SIGHAN-2015 test file that pycorrector ships (707 pairs, simplified
Chinese). It is for evaluation only: nothing in this project trains or tunes on it. ``corpus500``
is a second set of real typos, pycorrector's own (corpus500.py), also for evaluation only. ``--dataset``
also takes a path to a TSV of ``source<TAB>target`` lines, and ``dev`` evaluates on our own
synthetic check pairs (see tune.py).

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
from pathlib import Path

from models.typo import CORRECTORS, load_typo_corrector, metrics
from models.typo.resources import sighan2015_path


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Pairs the way pycorrector's eval_model_batch reads them (comments and odd lines skipped)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def dataset_pairs(name: str) -> list[tuple[str, str]]:
    if name == "sighan2015":
        return read_pairs(sighan2015_path())
    if name == "corpus500":
        from models.lm.corpus import CorpusUnavailable
        from models.typo.corpus500 import corpus500_pairs

        try:
            return corpus500_pairs()
        except CorpusUnavailable as exc:  # offline, and never fetched before
            raise SystemExit(f"dataset corpus500: {exc}") from None
    if name == "dev":
        from models.typo.tune import dev_check_pairs

        return [(p.src, p.tgt) for p in dev_check_pairs()]
    path = Path(name)
    if not path.is_file():
        raise SystemExit(f"dataset {name!r}: neither sighan2015, corpus500, dev nor a TSV file")
    return read_pairs(path)


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
    corrector = load_typo_corrector(name)
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
    parser.add_argument("--correctors", default=",".join(CORRECTORS))
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
        if name == "kenlm-csc":
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

"""The closing network served in numpy against the same network in torch (the training module), on one core:
`python -m sales_assistant.benchmarks.closing_serving [--runs 3] [--json]`.

The lines are the demo day's customer texts that reach the model (the rules settle the rest), scored as
`LearnedClosing.model_scores` scores them: sorted by length, in batches of `batch` lines. The live service
sends the model the undecided lines of one ingest batch (up to 500 entries, of which ~15% reach the model),
so batches of 1 to 64 lines are what it runs; 256 is the detector's cap. One thread for both engines (torch's
intra-op threads, numpy's BLAS through threadpoolctl), the process pinned to one core, the engines
alternated run by run; the figure is labels per CPU second of the process (what sizes the closing actor,
issue 19, and less shaken by other processes than the wall clock), the median of `runs` passes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

BATCHES = (1, 4, 16, 64, 256)


def run_closing_serving(runs: int = 3, batches: tuple[int, ...] = BATCHES) -> dict:
    import torch
    from safetensors.torch import load_file
    from threadpoolctl import threadpool_limits

    from sales_assistant.benchmarks.nlp import demo_customer_texts
    from sales_assistant.models.backbone import pad, pad_arrays
    from sales_assistant.models.closing import rules
    from sales_assistant.models.closing.learned import LearnedClosing
    from sales_assistant.models.lab.closing.net import ClosingNet as TorchClosingNet

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    torch.set_num_threads(1)
    threadpool_limits(1, user_api="blas")
    detector = LearnedClosing(threads=1)
    served = detector.model
    module = TorchClosingNet(json.loads((detector.artifacts / "config.json").read_text(encoding="utf-8"))["electra"])
    module.load_state_dict({k: v.float() for k, v in load_file(detector.artifacts / "model.safetensors").items()})
    module.eval()
    mix = demo_customer_texts()
    encoded = detector.encoder.encode([t for t in mix if rules.decide(t) is None])
    encoded.sort(key=len)

    def numpy_pass(size: int) -> None:
        for start in range(0, len(encoded), size):
            served.closing_probability(*pad_arrays(encoded[start:start + size])).tolist()

    def torch_pass(size: int) -> None:
        with torch.inference_mode():
            for start in range(0, len(encoded), size):
                torch.softmax(module(*pad(encoded[start:start + size])), -1)[:, 1].tolist()

    engines = {"numpy": numpy_pass, "torch": torch_pass}
    for engine in engines.values():  # first calls (allocations, torch's dispatch caches) out of the figures
        engine(16)
    figures = {}
    for size in batches:
        rates: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(runs):
            for name, engine in engines.items():
                started = time.process_time()
                engine(size)
                rates[name].append(len(encoded) / (time.process_time() - started))
        figures[str(size)] = {name: round(statistics.median(r)) for name, r in rates.items()} | {
            "numpy/torch": round(statistics.median(rates["numpy"]) / statistics.median(rates["torch"]), 2)}
    whole = []
    for _ in range(runs):
        started = time.process_time()
        detector.scores(mix)
        whole.append(len(mix) / (time.process_time() - started))
    return {"lines": len(encoded), "of_customer_texts": len(mix), "runs": runs,
            "model_labels_per_second": figures,
            "detector_labels_per_second": round(statistics.median(whole)),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = run_closing_serving(args.runs)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['lines']} of {result['of_customer_texts']} demo-day customer texts reach the model; "
          f"labels per CPU second, one core, median of {args.runs}:")
    for size, f in result["model_labels_per_second"].items():
        print(f"  batch {size:>3}: numpy {f['numpy']:>6}  torch {f['torch']:>6}  numpy/torch {f['numpy/torch']}")
    print(f"the whole detector (rules + numpy model) on all {result['of_customer_texts']} texts: "
          f"{result['detector_labels_per_second']} labels per CPU second; load average {result['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

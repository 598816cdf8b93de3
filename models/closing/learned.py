"""The learned closing detector: rules where rules are right, a small character-level BERT for the rest.

`LearnedClosing(use_rules=True)` ("learned") asks `rules.decide` first: a pure acknowledgement is
closing, an explicit question or a "but" objection is not. Only the lines the rules abstain on
("好的，我下午看下", "系统又打不开了", "好的亲") reach the model. `use_rules=False` ("learned-model") is
the bare model, kept so the evaluation can show what the rules add.

The model is trained by `python -m models.closing.train` and loads from `models/closing/artifacts/`
only: config.json, model.safetensors, vocab.txt (and bigrams.txt when trained with bigrams). Further
members of an ensemble, trained with other seeds on the same data, sit beside it as model-1.safetensors,
model-2.safetensors …; the score is the mean of the members' probabilities. Nothing is downloaded.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.closing import rules
from models.closing.text import CharVocab, Encoder

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
REQUIRED_FILES = ("config.json", "model.safetensors", "vocab.txt")


class ArtifactsMissing(FileNotFoundError):
    """The trained model is not where it should be; the message names the path and how to make it."""


@dataclass(frozen=True)
class Explanation:
    score: float
    decided_by: str  # a rule's name, or "model"


class LearnedClosing:
    threshold = 0.5

    def __init__(self, artifacts: Path | str = ARTIFACTS, *, threads: int = 1, batch_size: int = 256,
                 use_rules: bool = True):
        import torch
        from safetensors.torch import load_file
        from transformers import BertConfig, BertForSequenceClassification

        self.artifacts = Path(artifacts)
        missing = [f for f in REQUIRED_FILES if not (self.artifacts / f).is_file()]
        if missing:
            raise ArtifactsMissing(
                f"closing model artifacts missing in {self.artifacts}: {', '.join(missing)}; "
                "train them with `python -m models.closing.train`")
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size are at least 1")
        torch.set_num_threads(threads)
        self._torch = torch
        self.name = "learned" if use_rules else "learned-model"
        self.use_rules = use_rules
        self.batch_size = batch_size
        chars = CharVocab.load(self.artifacts / "vocab.txt")
        pairs_file = self.artifacts / "bigrams.txt"
        pairs = CharVocab.load(pairs_file) if pairs_file.is_file() else None
        # Built from the local config and weights directly: no hub code path, nothing to download.
        config = BertConfig.from_json_file(self.artifacts / "config.json")
        weights = [self.artifacts / "model.safetensors",
                   *sorted(self.artifacts.glob("model-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))]
        self.members = []
        for path in weights:
            member = BertForSequenceClassification(config)
            member.load_state_dict(load_file(path), strict=True)
            self.members.append(member.eval())
        self.model = self.members[0]
        if config.vocab_size != len(chars) or (pairs is not None and config.type_vocab_size != len(pairs)):
            raise ValueError(f"{self.artifacts}: vocab.txt / bigrams.txt do not match the model's config; "
                             "retrain or restore the artifacts together")
        self.encoder = Encoder(chars, pairs, config.max_position_embeddings)

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [e.score for e in self.explain(texts)]

    def explain(self, texts: Sequence[str]) -> list[Explanation]:
        """Each text's score and what decided it, in input order."""
        out: list[Explanation | None] = [None] * len(texts)
        undecided: list[int] = []
        for i, text in enumerate(texts):
            verdict = rules.decide(text) if self.use_rules else None
            if verdict is None:
                undecided.append(i)
            else:
                out[i] = Explanation(verdict.score, verdict.rule)
        for i, p in zip(undecided, self.model_scores([texts[i] for i in undecided]), strict=True):
            out[i] = Explanation(p, "model")
        return out  # type: ignore[return-value]

    def model_scores(self, texts: Sequence[str]) -> list[float]:
        """P(closing) from the model alone. Lines are batched by length so that padding stays short."""
        torch = self._torch
        encoded = [self.encoder.encode(t) for t in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
        probs = [0.0] * len(encoded)
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                ids, types, mask = pad([encoded[i] for i in batch], torch)
                closing = sum(torch.softmax(m(input_ids=ids, token_type_ids=types, attention_mask=mask).logits,
                                            dim=-1)[:, 1] for m in self.members) / len(self.members)
                for i, p in zip(batch, closing.tolist(), strict=True):
                    probs[i] = p
        return probs


def pad(rows: list[tuple[list[int], list[int]]], torch):  # noqa: ANN001, ANN201 - torch passed in: lazy import
    """Right-pad (token ids, bigram ids) pairs with id 0 into input_ids, token_type_ids, attention_mask."""
    width = max((len(ids) for ids, _ in rows), default=1)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, (row, pairs) in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row, dtype=torch.long)
        types[r, :len(pairs)] = torch.tensor(pairs, dtype=torch.long)
        mask[r, :len(row)] = 1
    return ids, types, mask

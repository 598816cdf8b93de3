"""The learned closing detector: rules where rules are right, a fine-tuned pretrained encoder for the rest.

`LearnedClosing(use_rules=True)` ("learned") asks `rules.decide` first: a pure acknowledgement is
closing, an explicit question or a "but" objection is not. Only the lines the rules abstain on
("好的，我下午看下", "系统又打不开了", "好的亲") reach the model. `use_rules=False` ("learned-model") is
the bare model, kept so the evaluation can show what the rules add.

The model is HFL's Chinese ELECTRA-small as LTP 4 ships it, fine-tuned in the lab by
`python -m sales_assistant.models.lab.closing.train` (in torch) and served in numpy (net.py), so that
loading it does not import torch. It loads from `models/closing/artifacts/` only: config.json,
model.safetensors and vocab.txt, and the further members of the ensemble, trained with other seeds on the
same data, as model-1.safetensors, model-2.safetensors (three are shipped); the score is the mean of the
members' probabilities. Nothing is downloaded: the pretrained backbone is needed for training only.

How it serves is in config.json's "serving": how many members run (the first N files; 1 since issue 19,
three times faster than three and within the recall targets) and the threshold, chosen in the lab for
needs-answer recall first (`python -m sales_assistant.models.lab.closing.evaluate --choose-threshold`).
`stats` counts the lines scored and what decided them ("model" = the lines that reached the model), so
a caller can report the share the rules settle without the model.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sales_assistant.models.backbone import require_files
from sales_assistant.models.closing import rules
from sales_assistant.models.closing.text import PieceEncoder

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TRAINED_BY = "sales_assistant.models.lab.closing.train"  # the module that writes ARTIFACTS, named to whoever lacks them


@dataclass(frozen=True)
class Explanation:
    score: float
    decided_by: str  # a rule's name, or "model"


class LearnedClosing:
    def __init__(self, artifacts: Path | str = ARTIFACTS, *, threads: int = 1, batch_size: int = 256,
                 use_rules: bool = True, members: int | None = None, threshold: float | None = None):
        """`members` and `threshold` override config.json's "serving" (the lab compares settings with them)."""
        import json

        from threadpoolctl import threadpool_limits

        from sales_assistant.models.closing.net import ClosingNet

        self.artifacts = Path(artifacts)
        require_files(self.artifacts, "the closing model", TRAINED_BY)
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size are at least 1")
        threadpool_limits(threads, user_api="blas")  # numpy's matrix products: process-wide, as torch's threads were
        self.name = "learned" if use_rules else "learned-model"
        self.use_rules = use_rules
        self.batch_size = batch_size
        config = json.loads((self.artifacts / "config.json").read_text(encoding="utf-8"))
        vocab = (self.artifacts / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
        if len(vocab) != config["electra"]["vocab_size"]:
            raise ValueError(f"{self.artifacts}: vocab.txt does not match the model's config; "
                             "retrain or restore the artifacts together")
        self.encoder = PieceEncoder(vocab, config["max_length"])
        serving = config.get("serving", {})
        self.threshold = float(threshold if threshold is not None else serving.get("threshold", 0.5))
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")
        weights = [self.artifacts / "model.safetensors",
                   *sorted(self.artifacts.glob("model-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))]
        wanted = members if members is not None else serving.get("members", len(weights))
        if not 1 <= wanted <= len(weights):
            raise ValueError(f"members must be between 1 and {len(weights)} (the member files in {self.artifacts}), "
                             f"not {wanted}")
        weights = weights[:wanted]
        self.stats: Counter[str] = Counter()  # "lines" scored; per decider ("model" or a rule's name), how many
        # Stored in fp16, run in fp32.
        self.members = [ClosingNet.load(config["electra"], path) for path in weights]
        self.model = self.members[0]

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
                self.stats[verdict.rule] += 1
        for i, p in zip(undecided, self.model_scores([texts[i] for i in undecided]), strict=True):
            out[i] = Explanation(p, "model")
        self.stats["lines"] += len(texts)
        self.stats["model"] += len(undecided)
        return out  # type: ignore[return-value]

    def model_scores(self, texts: Sequence[str]) -> list[float]:
        """P(closing) from the model alone. Lines are batched by length so that padding stays short."""
        from sales_assistant.models.backbone import pad_arrays

        encoded = self.encoder.encode(texts) if texts else []
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        probs = [0.0] * len(encoded)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            ids, mask = pad_arrays([encoded[i] for i in batch], self.encoder.pad)
            closing = sum(m.closing_probability(ids, mask) for m in self.members) / len(self.members)
            for i, p in zip(batch, closing.tolist(), strict=True):
                probs[i] = p
        return probs

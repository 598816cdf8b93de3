"""A contextual judge for the typo corrector: the pretrained Chinese ELECTRA-small encoder (the closing
model's backbone) with a masked-LM style head, fine-tuned to read a sentence that
may hold typos and to say, at every character, which character was meant.

The n-gram judges see a few characters either side; this one sees the whole sentence. The corrector
uses it as one more feature: the gain ``logit(candidate) - logit(original)`` at a position (the
softmax normaliser cancels, so only the candidates' rows of the output layer are computed).

Characters map to the backbone's vocabulary one by one (bert-base-chinese has one token per Chinese
character), so positions in the text and in the model are the same. Training: models/lab/typo/train_mlm.py.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from transformers import ElectraConfig, ElectraModel

from sales_assistant.models.backbone import pad, require_files
from sales_assistant.models.typo import JUDGE_ARTIFACTS as ARTIFACTS
from sales_assistant.models.typo import JUDGE_TRAINED_BY

MAX_CHARS = 126  # [CLS] + 126 + [SEP] = 128 positions; longer sentences are read in windows


class CharCorrectorNet(torch.nn.Module):
    """Encoder -> dense -> GELU -> LayerNorm -> the input embeddings (tied) + a bias per character."""

    def __init__(self, electra: dict):
        super().__init__()
        self.encoder = ElectraModel(ElectraConfig(**electra))
        cfg = self.encoder.config
        self.dense = torch.nn.Linear(cfg.hidden_size, cfg.embedding_size)
        self.norm = torch.nn.LayerNorm(cfg.embedding_size, eps=cfg.layer_norm_eps)
        self.bias = torch.nn.Parameter(torch.zeros(cfg.vocab_size))

    def states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return self.norm(torch.nn.functional.gelu(self.dense(hidden)))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits over the whole vocabulary at every position (training)."""
        return self.states(ids, mask) @ self.encoder.embeddings.word_embeddings.weight.T + self.bias


class CharVocab:
    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.unk, self.cls, self.sep, self.pad = (self.ids[t] for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]"))

    def id(self, ch: str) -> int:
        got = self.ids.get(ch)
        return got if got is not None else self.ids.get(ch.lower(), self.unk)

    def encode(self, text: str) -> list[int]:
        return [self.cls, *(self.id(ch) for ch in text), self.sep]


class CharJudge:
    """Serving side: loads the fine-tuned weights from local files only."""

    def __init__(self, folder: Path = ARTIFACTS, threads: int | None = 1):
        from safetensors.torch import load_file

        require_files(folder, "the typo judge", JUDGE_TRAINED_BY)
        weights = folder / "model.safetensors"
        if threads:
            torch.set_num_threads(threads)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.vocab = CharVocab((folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1])
        self.net = CharCorrectorNet(config["electra"])
        self.net.load_state_dict({k: v.float() for k, v in load_file(weights).items()})
        self.net.eval()
        self._embed = self.net.encoder.embeddings.word_embeddings.weight

    def states(self, texts: Sequence[str]) -> list[torch.Tensor]:
        """Per text, the head's state at each character (len(text) x embedding size), in batches of 64
        windows of up to MAX_CHARS characters."""
        windows: list[tuple[int, int, list[int]]] = []  # (text, first character, ids)
        for k, text in enumerate(texts):
            for start in range(0, max(1, len(text)), MAX_CHARS):
                windows.append((k, start, self.vocab.encode(text[start:start + MAX_CHARS])))
        pieces: dict[int, list[tuple[int, torch.Tensor]]] = {k: [] for k in range(len(texts))}
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][2]))  # short padding
        with torch.inference_mode():
            for b in range(0, len(order), 64):
                batch = [windows[w] for w in order[b:b + 64]]
                ids, mask = pad([row for _, _, row in batch], self.vocab.pad)
                for (k, start, row), s in zip(batch, self.net.states(ids, mask), strict=True):
                    pieces[k].append((start, s[1:len(row) - 1]))
        return [torch.cat([s for _, s in sorted(pieces[k], key=lambda p: p[0])]) for k in range(len(texts))]

    def view(self, state: torch.Tensor, chars: Iterable[str]) -> JudgeView:
        """The logits of ``chars`` at every position of a text whose states these are, in one product."""
        ids = sorted({self.vocab.id(c) for c in chars})
        with torch.inference_mode():
            logits = (state @ self._embed[ids].T + self.net.bias[ids]).numpy()
        return JudgeView(self.vocab, {i: n for n, i in enumerate(ids)}, logits)


class JudgeView:
    def __init__(self, vocab: CharVocab, column: dict[int, int], logits):  # noqa: ANN001
        self._vocab, self._column, self._logits = vocab, column, logits

    def gains(self, pos: int, original: str, candidates: Sequence[str]) -> list[float]:
        """logit(candidate) - logit(original) at ``pos``; every character must have been in the view."""
        row, col, vid = self._logits[pos], self._column, self._vocab.id
        base = row[col[vid(original)]]
        return [float(row[col[vid(c)]] - base) for c in candidates]

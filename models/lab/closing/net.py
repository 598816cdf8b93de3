"""The closing network for training: the pretrained ELECTRA-small encoder, the mean of its last hidden
states over the real tokens, dropout and one linear layer to two logits (needs answer, closing).

Training needs autograd, so this is torch; serving runs the same network in numpy (models/closing/net.py:
importing torch took most of `sales-assistant check`'s start-up). The two compute the same thing:
`tests/unit/test_closing_net.py` checks the served scores against this module's on the evaluation lines.
The encoder keeps the parameter names of transformers' `ElectraModel`, so that the pretrained backbone
and the shipped weights load into it unchanged. Only what this model uses is built (absolute positions,
one token type, GELU, an encoder without a decoder or a cache); the same test checks it against
transformers' own implementation.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional


class _Embeddings(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["embedding_size"], padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["embedding_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["embedding_size"])
        self.LayerNorm = nn.LayerNorm(c["embedding_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _SelfAttention(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.heads, size = c["num_attention_heads"], c["hidden_size"]
        self.query, self.key, self.value = nn.Linear(size, size), nn.Linear(size, size), nn.Linear(size, size)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, size = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, size // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(size // self.heads) + bias
        context = self.dropout(scores.softmax(-1)) @ v
        return context.transpose(1, 2).reshape(batch, length, size)


class _Residual(nn.Module):
    """dense -> dropout -> LayerNorm(x + input): the output of attention and of the feed-forward block."""

    def __init__(self, c: dict, size_in: int) -> None:
        super().__init__()
        self.dense = nn.Linear(size_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Residual(c, c["hidden_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, bias), x)


class _Intermediate(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        if c["hidden_act"] != "gelu":
            raise ValueError(f"electra.hidden_act: only gelu is built, not {c['hidden_act']!r}")
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Residual(c, c["intermediate_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, bias)
        return self.output(self.intermediate(x), x)


class _Layers(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class ElectraEncoder(nn.Module):
    """ELECTRA's discriminator body: embeddings, a projection to the hidden size, the transformer layers."""

    def __init__(self, c: dict) -> None:
        super().__init__()
        self.hidden_size = c["hidden_size"]
        self.embeddings = _Embeddings(c)
        if c["embedding_size"] != c["hidden_size"]:
            self.embeddings_project = nn.Linear(c["embedding_size"], c["hidden_size"])
        self.encoder = _Layers(c)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(ids)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        # Padding gets the dtype's lowest value before the softmax, as transformers does.
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x


class ClosingNet(nn.Module):
    def __init__(self, electra: dict, dropout: float = 0.1):
        super().__init__()
        self.encoder = ElectraEncoder(electra)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.hidden_size, 2)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(ids, mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return self.head(self.dropout(pooled))

"""The closing network as served: the fine-tuned ELECTRA-small encoder, the mean of its last hidden states
over the real tokens, and one linear layer to two logits (needs answer, closing), computed in numpy.

Training needs autograd and keeps torch (models/lab/closing/net.py, the same network with the parameter
names of transformers' `ElectraModel`); serving needs a forward pass only, and importing torch took most
of `sales-assistant check`'s start-up. This module reads the same safetensors and computes the same
scores in float32: `tests/unit/test_closing_net.py` holds it to the torch module within 1e-5 on the
evaluation lines, batched and one by one. Inference only, so dropout is the identity.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_F32 = np.float32
# GELU as torch computes it, x·Φ(x) with the exact erf. numpy has no erf, so erfc(z) for z ≥ 0 is
# Abramowitz & Stegun 7.1.26, t·(a1 + t·(a2 + …))·exp(−z²) with t = 1 / (1 + p·z): absolute error at most
# 1.5e-7, which leaves the float32 GELU within 7e-7 of the exact one (torch's own float32 GELU: 6e-7).
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_GELU_ROWS = 64  # tokens per GELU step: 64 × 1024 values keep its temporaries in the CPU's cache


def gelu_(x: np.ndarray) -> np.ndarray:
    """GELU of a 2-D float32 array, in place: ½·(x + |x|·erf(|x|/√2)), which is x·Φ(x) for either sign."""
    width = x.shape[1]
    a_buf, t_buf, p_buf = (np.empty((_GELU_ROWS, width), _F32) for _ in range(3))
    for start in range(0, x.shape[0], _GELU_ROWS):
        v = x[start:start + _GELU_ROWS]
        a, t, p = a_buf[:len(v)], t_buf[:len(v)], p_buf[:len(v)]
        np.abs(v, out=a)
        np.multiply(a, _F32(_P / math.sqrt(2)), out=t)
        t += _F32(1)
        np.reciprocal(t, out=t)
        np.multiply(t, _F32(_A[4]), out=p)
        for c in _A[3::-1]:
            p += _F32(c)
            p *= t
        np.multiply(a, a, out=t)
        t *= _F32(-0.5)
        np.exp(t, out=t)
        p *= t  # erfc(|x|/√2)
        np.subtract(_F32(1), p, out=p)
        p *= a
        v += p
        v *= _F32(0.5)
    return x


def _layer_norm_(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place (biased variance, as torch)."""
    x -= x.mean(axis=-1, keepdims=True)
    scale = np.square(x).mean(axis=-1, keepdims=True)
    scale += _F32(eps)
    np.sqrt(scale, out=scale)
    x /= scale
    x *= weight
    x += bias
    return x


class ClosingNet:
    """The served network, from the weights of the torch module's `state_dict` (any float dtype; run in float32).

    Linear weights are kept transposed, and query, key and value as one matrix, so that each dense step is
    one matrix product over every token of the batch; the query's is pre-divided by √(head size)."""

    def __init__(self, electra: Mapping, weights: Mapping[str, np.ndarray]) -> None:
        if electra["hidden_act"] != "gelu":
            raise ValueError(f"electra.hidden_act: only gelu is built, not {electra['hidden_act']!r}")
        expected = _parameter_names(electra)
        if missing := sorted(expected - weights.keys()):
            raise ValueError(f"closing weights lack {', '.join(missing[:5])}")
        if unexpected := sorted(weights.keys() - expected):
            raise ValueError(f"closing weights have unknown {', '.join(unexpected[:5])}")
        w = {k: np.asarray(v, dtype=_F32) for k, v in weights.items()}
        self.heads, self.hidden = electra["num_attention_heads"], electra["hidden_size"]
        self.eps = electra["layer_norm_eps"]
        self.positions = electra["max_position_embeddings"]
        e = "encoder.embeddings."
        self.word = w[e + "word_embeddings.weight"]
        # Every line is one segment: token type 0 is a constant added to each position.
        self.position = w[e + "position_embeddings.weight"] + w[e + "token_type_embeddings.weight"][0]
        self.embed_norm = (w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"])
        self.project = (_t(w["encoder.embeddings_project.weight"]), w["encoder.embeddings_project.bias"]) \
            if "encoder.embeddings_project.weight" in w else None
        scale = _F32(1 / math.sqrt(self.hidden // self.heads))
        self.layers = []
        for i in range(electra["num_hidden_layers"]):
            p = f"encoder.encoder.layer.{i}."
            s = p + "attention.self."
            qkv = np.concatenate([w[s + "query.weight"] * scale, w[s + "key.weight"], w[s + "value.weight"]])
            qkv_bias = np.concatenate([w[s + "query.bias"] * scale, w[s + "key.bias"], w[s + "value.bias"]])
            self.layers.append({
                "qkv": (_t(qkv), qkv_bias),
                "attention_out": (_t(w[p + "attention.output.dense.weight"]), w[p + "attention.output.dense.bias"]),
                "attention_norm": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "intermediate": (_t(w[p + "intermediate.dense.weight"]), w[p + "intermediate.dense.bias"]),
                "out": (_t(w[p + "output.dense.weight"]), w[p + "output.dense.bias"]),
                "out_norm": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })
        self.head = (_t(w["head.weight"]), w["head.bias"])

    @classmethod
    def load(cls, electra: Mapping, path: Path | str) -> ClosingNet:
        from safetensors.numpy import load_file

        return cls(electra, load_file(str(path)))

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length) token ids and attention mask (1 = a real token) -> (batch, 2) float32 logits."""
        batch, length = ids.shape
        if length > self.positions:
            raise ValueError(f"{length} tokens: the model's positions end at {self.positions}")
        x = self.word[ids.reshape(-1)].reshape(batch, length, -1)
        x += self.position[:length]
        x = _layer_norm_(x.reshape(batch * length, -1), *self.embed_norm, self.eps)
        if self.project is not None:
            x = _dense(x, *self.project)
        # Padding gets float32's lowest value before the softmax, as the torch module (and transformers) do.
        bias = ((1 - mask.astype(_F32)) * np.finfo(_F32).min)[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, layer, bias, batch, length)
        hidden = x.reshape(batch, length, self.hidden)
        weights = mask.astype(_F32)[:, :, None]
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return _dense(pooled, *self.head)

    def closing_probability(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """P(closing) per line: the softmax of the two logits, as float64."""
        logits = self.logits(ids, mask).astype(np.float64)
        return 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))

    def _layer(self, x: np.ndarray, layer: dict, bias: np.ndarray, batch: int, length: int) -> np.ndarray:
        size, heads = self.hidden, self.heads
        qkv = _dense(x, *layer["qkv"]).reshape(batch, length, 3, heads, size // heads).transpose(2, 0, 3, 1, 4)
        q, k, v = np.ascontiguousarray(qkv[0]), np.ascontiguousarray(qkv[1]), np.ascontiguousarray(qkv[2])
        scores = q @ k.transpose(0, 1, 3, 2)  # (batch, heads, length, length); q was pre-scaled
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, size)
        attended = _dense(context, *layer["attention_out"])
        attended += x
        x = _layer_norm_(attended, *layer["attention_norm"], self.eps)
        out = _dense(gelu_(_dense(x, *layer["intermediate"])), *layer["out"])
        out += x
        return _layer_norm_(out, *layer["out_norm"], self.eps)


def _t(weight: np.ndarray) -> np.ndarray:
    """A torch Linear's (out, in) weight as the (in, out) matrix that x @ W wants, contiguous."""
    return np.ascontiguousarray(weight.T)


def _dense(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = x @ weight
    out += bias
    return out


def _parameter_names(c: Mapping) -> set[str]:
    """The torch module's state_dict keys for this config: the weights must be exactly these."""
    e = "encoder.embeddings."
    names = {e + n for n in ("word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
                             "LayerNorm.weight", "LayerNorm.bias")}
    if c["embedding_size"] != c["hidden_size"]:
        names |= {"encoder.embeddings_project.weight", "encoder.embeddings_project.bias"}
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.encoder.layer.{i}."
        for dense in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                      "intermediate.dense", "output.dense", "attention.output.LayerNorm", "output.LayerNorm"):
            names |= {f"{p}{dense}.weight", f"{p}{dense}.bias"}
    return names | {"head.weight", "head.bias"}

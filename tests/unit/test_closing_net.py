"""The closing network has one architecture and two engines: torch for training (models/lab/closing/net.py)
and numpy for serving (models/closing/net.py). The served scores must be the torch module's, on whatever
weights are in the artifacts, on every line of the test split and the hard set, batched and one by one;
and the torch module must be transformers' ELECTRA."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sales_assistant.models.backbone import pad, pad_arrays
from sales_assistant.models.closing.learned import ARTIFACTS, LearnedClosing
from sales_assistant.models.closing.net import ClosingNet, gelu_
from sales_assistant.models.closing.text import PieceEncoder
from sales_assistant.models.lab.closing.build_dataset import load
from sales_assistant.models.lab.closing.eval_sets import HARD, load_set

TOLERANCE = 1e-5  # on P(closing); float32 noise between the engines is ~3e-6 on these lines


@pytest.fixture(scope="module")
def config() -> dict:
    return json.loads((ARTIFACTS / "config.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The test split and the hard set."""
    lines = [r["text"] for r in load(split="test")] + [r["text"] for r in load_set(HARD)]
    assert len(lines) >= 1000
    return lines


@pytest.fixture(scope="module")
def encoded(config: dict, texts: list[str]) -> list[list[int]]:
    """Cut as serving cuts them."""
    vocab = (ARTIFACTS / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    return PieceEncoder(vocab, config["max_length"]).encode(texts)


def _members() -> list:
    """The member files in serving order: model.safetensors, then model-1, model-2 …"""
    return [ARTIFACTS / "model.safetensors",
            *sorted(ARTIFACTS.glob("model-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))]


def _torch_module(config: dict, path):  # noqa: ANN001, ANN202
    from safetensors.torch import load_file

    from sales_assistant.models.lab.closing.net import ClosingNet as TorchClosingNet

    module = TorchClosingNet(config["electra"], config["dropout"])
    module.load_state_dict({k: v.float() for k, v in load_file(path).items()}, strict=True)
    return module.eval()


def _torch_scores(module, rows: list[list[int]]) -> np.ndarray:  # noqa: ANN001
    import torch

    with torch.inference_mode():
        return torch.softmax(module(*pad(rows)), -1)[:, 1].double().numpy()


@pytest.mark.slow
@pytest.mark.parametrize("path", _members(), ids=lambda p: p.name)
def test_served_network_scores_what_the_torch_module_scores(config: dict, encoded: list[list[int]], path) -> None:
    """Every member file, on batches of 32 lines in file order: lines of mixed lengths, so most are padded."""
    served, module = ClosingNet.load(config["electra"], path), _torch_module(config, path)
    for start in range(0, len(encoded), 32):
        rows = encoded[start:start + 32]
        got = served.closing_probability(*pad_arrays(rows))
        assert np.abs(got - _torch_scores(module, rows)).max() <= TOLERANCE, start


@pytest.mark.slow
def test_served_scores_are_torchs_batched_and_one_by_one(config: dict, texts: list[str],
                                                        encoded: list[list[int]]) -> None:
    """The detector as it serves (its members; lines batched by length, 256 a batch), then each line
    alone, against the torch module on the same batches: a line's score must not depend on its batch."""
    detector = LearnedClosing(use_rules=False)
    modules = [_torch_module(config, p) for p in _members()[:len(detector.members)]]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    expected = np.zeros(len(encoded))
    for start in range(0, len(order), detector.batch_size):
        batch = order[start:start + detector.batch_size]
        expected[batch] = sum(_torch_scores(m, [encoded[i] for i in batch]) for m in modules) / len(modules)
    batched = np.array(detector.model_scores(texts))
    alone = np.array([detector.model_scores([t])[0] for t in texts])
    assert np.abs(batched - expected).max() <= TOLERANCE
    assert np.abs(alone - expected).max() <= TOLERANCE


def test_gelu_is_torchs_exact_gelu_within_float32_noise() -> None:
    x = np.linspace(-10, 10, 200_000, dtype=np.float32).reshape(-1, 1000)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel().tolist()]).reshape(x.shape)
    assert np.abs(gelu_(x.copy()).astype(np.float64) - exact).max() < 1e-6


def test_weights_must_be_exactly_the_torch_modules_parameters(config: dict) -> None:
    from safetensors.numpy import load_file

    weights = load_file(str(ARTIFACTS / "model.safetensors"))
    with pytest.raises(ValueError, match=r"lack encoder\.encoder\.layer\.0\.output\.dense\.bias"):
        ClosingNet(config["electra"], {k: v for k, v in weights.items() if k != "encoder.encoder.layer.0.output.dense.bias"})
    with pytest.raises(ValueError, match="unknown extra.weight"):
        ClosingNet(config["electra"], {**weights, "extra.weight": weights["head.bias"]})
    with pytest.raises(ValueError, match="hidden_act"):
        ClosingNet({**config["electra"], "hidden_act": "relu"}, weights)


def test_a_customer_check_does_not_import_torch() -> None:
    """Importing torch was most of `sales-assistant check`'s start-up (benchmarks/README.md, check start-up):
    a customer's line checked here loads the closing model, in numpy, and nothing that imports torch."""
    code = ("import sys\n"
            "from sales_assistant.cli.main import app\n"
            "from sales_assistant.cli.check import _here\n"
            "verdict, = _here('learned', None, 'zh', 'customer')(['好的，我下午看一下'])\n"
            "assert verdict['closing'], verdict\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_torch_module_computes_what_transformers_electra_computes(config: dict) -> None:
    """The training module builds ELECTRA without transformers (its import cost seconds); the shipped weights,
    loaded into transformers' own ElectraModel, must give the same hidden states on real lines, padding
    included."""
    import torch
    from safetensors.torch import load_file
    from transformers import ElectraConfig, ElectraModel

    weights = {k: v.float() for k, v in load_file(ARTIFACTS / "model.safetensors").items()}
    ours = _torch_module(config, ARTIFACTS / "model.safetensors")
    reference = ElectraModel(ElectraConfig(**config["electra"]))
    reference.load_state_dict({k.removeprefix("encoder."): v for k, v in weights.items() if k.startswith("encoder.")},
                              strict=False)
    vocab = (ARTIFACTS / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    texts = ["好的", "好的，那合同发我", "收到，我们内部讨论下，下周给您答复", "？", "@王经理 报价单发我一下谢谢"]
    ids, mask = pad(PieceEncoder(vocab, config["max_length"]).encode(texts))
    with torch.no_grad():
        expected = reference.eval()(input_ids=ids, attention_mask=mask).last_hidden_state
        got = ours.encoder(ids, mask)
    real = mask.bool()
    assert torch.allclose(got[real], expected[real], atol=1e-4), (got[real] - expected[real]).abs().max()

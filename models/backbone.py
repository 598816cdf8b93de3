"""What every model fine-tuned on the pretrained encoder (the closing model, the typo judge) needs at run time:
the files it ships and loads from only, and padding a batch of token ids.

Both models are LTP 4's "tiny" encoder (HFL's Chinese ELECTRA-small) fine-tuned in the lab
(models/lab/pretrained.py fetches the pretrained weights, for training only). Serving never fetches
anything: a missing file is an error that names the file and the training command.
"""
from __future__ import annotations

from pathlib import Path

# What a fine-tuned model ships, and loads from only.
FINE_TUNED_FILES = ("config.json", "model.safetensors", "vocab.txt")


class ArtifactsMissing(FileNotFoundError):
    """A fine-tuned model is not where it should be; the message names the path and how to make it."""


def missing_files(folder: Path) -> list[str]:
    return [f for f in FINE_TUNED_FILES if not (folder / f).is_file()]


def require_files(folder: Path, what: str, train: str) -> None:
    """Raise ArtifactsMissing naming the missing files of a fine-tuned model and its training command."""
    if missing := missing_files(folder):
        raise ArtifactsMissing(f"{what} lacks {', '.join(missing)} in {folder}; train it with `python -m {train}`")


def pad_arrays(rows, pad_id: int = 0):  # noqa: ANN001, ANN201
    """Right-pad token id lists into (input_ids, attention_mask) int64 numpy arrays, for any model on this
    backbone (the closing model serves in numpy)."""
    import numpy as np

    width = max((len(r) for r in rows), default=1)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
        mask[i, :len(row)] = 1
    return ids, mask


def pad(rows, pad_id: int = 0):  # noqa: ANN001, ANN201
    """`pad_arrays` as torch tensors, for the models that run in torch (training, the typo judge)."""
    import torch

    ids, mask = pad_arrays(rows, pad_id)
    return torch.from_numpy(ids), torch.from_numpy(mask)

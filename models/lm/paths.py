"""Where built models live: never in the repository (the LM is tens of megabytes).

``SA_MODEL_DIR`` names the root for all built models; the LM sits in its ``lm/`` folder.
Without it the root is ``~/.cache/sales-assistant``, so the LM is in ``~/.cache/sales-assistant/lm``.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "SA_MODEL_DIR"


def model_root() -> Path:
    root = os.environ.get(ENV_VAR)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "sales-assistant"


def lm_dir() -> Path:
    return model_root() / "lm"

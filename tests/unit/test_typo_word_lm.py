"""The word trigram LM (libime's, from Debian), fuzzy-pinyin candidates and the calibration text."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import sales_assistant.models.lm.word as word
from sales_assistant.models.lab.typo.calibration import html_text, prose_sentences
from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.models.lm.corpus import CorpusUnavailable
from sales_assistant.models.lm.word import FILE_NAME, WordLM, find_word_lm, read_vocabulary
from sales_assistant.models.typo import load_typo_corrector
from sales_assistant.models.typo.resources import fuzzy_pinyin, load_confusion
from tests.support.data import required


@pytest.fixture(scope="module")
def word_lm() -> WordLM:
    return WordLM(required(find_word_lm))


def test_the_vocabulary_is_read_from_the_binary(word_lm):
    words = read_vocabulary(word_lm.path)
    assert len(words) > 150_000 and "<unk>" not in words
    assert {"合同", "邮箱", "发货", "的"} <= set(words)


def test_segmentation_uses_the_models_own_words(word_lm):
    assert word_lm.segment("合同已经发到您的邮箱了") == ["合同", "已经", "发到", "您", "的", "邮箱", "了"]
    assert word_lm.segment("") == []
    # a character the vocabulary lacks stands alone instead of breaking the lattice
    assert "\u9fa5" in word_lm.segment("发货\u9fa5了")


@pytest.mark.parametrize(
    ("right", "wrong"),
    [("合同已经发到您的邮箱了", "合同已经发到您的邮相了"), ("我们明天再联系您", "我们明天在联系您"),
     ("请您确认收货地址", "请您确认收获地址")],
)
def test_the_intended_sentence_scores_higher(word_lm, right, wrong):
    assert word_lm.score(right) > word_lm.score(wrong)


def test_fetching_unpacks_the_debian_package_into_the_lm_dir(tmp_path, monkeypatch):
    """The Debian archive is outside the machine: an `apt-get` stand-in on PATH hands out a package
    built here around the installed model, so the fetch and unpack steps run offline."""
    source = required(find_word_lm)
    _apt_get_standin(tmp_path / "archive", source, monkeypatch)
    monkeypatch.setattr(word, "SYSTEM_PATHS", ())
    lm_dir = tmp_path / "lm"
    path = find_word_lm(lm_dir)
    assert path == lm_dir / FILE_NAME and path.stat().st_size == source.stat().st_size > 10_000_000
    assert [p.name for p in lm_dir.iterdir()] == [FILE_NAME]  # the .deb and its unpacked tree are gone
    assert find_word_lm(lm_dir, download=False) == path  # cached


def _apt_get_standin(archive: Path, lm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`apt-get download libime-data-language-model` answered from `archive` (a .deb built with dpkg-deb)."""
    tree = archive / "pkg"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(f"Package: {word.PACKAGE}\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: tests <tests@localhost>\nDescription: stand-in\n")
    target = tree / "usr" / "lib" / "libime" / FILE_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(lm, target)
    deb = archive / f"{word.PACKAGE}_1.0_all.deb"
    subprocess.run(["dpkg-deb", "-Znone", "-b", str(tree), str(deb)], check=True, capture_output=True)
    bin_dir = archive / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-get"
    script.write_text(f'#!/bin/sh\n[ "$1" = download ] && [ "$2" = {word.PACKAGE} ] && cp "{deb}" . || exit 100\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_without_the_file_and_without_download_the_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(word, "SYSTEM_PATHS", ())
    with pytest.raises(CorpusUnavailable, match="apt-get install libime-data-language-model"):
        find_word_lm(tmp_path, download=False)


@pytest.mark.parametrize(
    ("syllable", "folded"),
    [("zhang", "zan"), ("shi", "si"), ("chen", "cen"), ("ning", "lin"), ("huang", "fuan"), ("xiang", "xian"),
     ("ma", "ma"), ("ren", "len")],
)
def test_fuzzy_pinyin_folds_the_pairs_input_methods_offer(syllable, folded):
    assert fuzzy_pinyin(syllable) == folded


def test_near_sounds_join_the_candidates_as_their_own_kind():
    confusion = load_confusion()
    cands = confusion.candidates("知")
    assert cands.get("资") == 3  # zhi ~ zi
    assert cands.get("之") == 0  # a true homophone stays a homophone
    assert "知" not in cands
    assert "柴" not in cands  # only the common reading counts (柴 is chai, rarely zì)


def test_calibration_keeps_prose_and_drops_commands_and_tables():
    text = "点击鼠标选中单元格。\n$ apt-get install foo bar baz。\n|命令|说明|。\n太短了。\n" \
           "如果查找成功完成，会高亮显示表格中的相应字段。"
    assert list(prose_sentences(text)) == ["点击鼠标选中单元格。", "如果查找成功完成，会高亮显示表格中的相应字段。"]


def test_html_wrapping_is_not_a_sentence_break():
    page = "<p>如果查找成功\n   完成，会高亮&amp;显示。</p><p>下一段。</p>"
    assert html_text(page).split("\n") == ["", "如果查找成功完成，会高亮&显示。", "", "下一段。", ""]


def test_the_docs_calibration_is_a_corrector_of_its_own(tmp_path):
    tiny = build_lm_from_texts(["合同已经发到您的邮箱了。"] * 3, tmp_path / "tiny.arpa", order=3)
    default = required(lambda: load_typo_corrector("ngram", lm_path=tiny))
    docs = required(lambda: load_typo_corrector("ngram-docs", lm_path=tiny))
    assert (default.name, docs.name) == ("ngram", "ngram-docs")
    assert default.params["weights"] != docs.params["weights"]

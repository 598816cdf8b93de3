"""corpus500, the second benchmark of real typos: how it is read, cleaned of SIGHAN overlap and cached."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from sales_assistant.models.lab.typo import corpus500
from sales_assistant.models.lab.typo.corpus500 import MEMBER, corpus500_pairs, decontaminate, read_sdist
from sales_assistant.models.lm.corpus import CorpusUnavailable
from tests.support.data import required


def _sdist(path: Path, items: list[dict], member: str = MEMBER) -> Path:
    data = json.dumps(items, ensure_ascii=False).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_pairs_are_read_in_order_on_one_line_each(tmp_path):
    sdist = _sdist(tmp_path / "p.tar.gz", [
        {"text": "讲台上放着一只漂亮的刚笔。", "correction": "讲台上放着一只漂亮的钢笔。", "errors": [["刚", "钢", 10, 11]]},
        {"text": "第一行\n第二\t行", "correction": "第一行\n第二\t行", "errors": []},
    ])
    assert read_sdist(sdist) == [("讲台上放着一只漂亮的刚笔。", "讲台上放着一只漂亮的钢笔。"),
                                 ("第一行 第二 行", "第一行 第二 行")]


def test_a_sdist_without_the_file_is_named_in_the_error(tmp_path):
    sdist = _sdist(tmp_path / "p.tar.gz", [], member="other/file.json")
    with pytest.raises(CorpusUnavailable, match="eval_corpus.json"):
        read_sdist(sdist)


def test_pairs_sharing_eight_characters_with_the_reference_are_dropped():
    reference = ["昨天大明跟他的朋友一起去夜店跳舞。"]
    pairs = [("大明跟他的朋友一起去唱歌", "大明跟他的朋友一起去唱歌"),  # 8 in common with the reference
             ("他跟朋友一起去夜店", "他跟朋友一起去夜店"),  # 5 in common at most
             ("我们明天去公园玩儿", "我们明天去公园玩儿")]
    assert decontaminate(pairs, reference) == pairs[1:]
    # the typed side counts too
    assert decontaminate([("昨天大明跟他的朋友", "昨天小明")], reference) == []


def test_the_pairs_are_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    _sdist(tmp_path / corpus500.SDIST, [{"text": "我跟朋唷去。", "correction": "我跟朋友去。", "errors": []}])
    monkeypatch.setattr(corpus500, "fetch", lambda req, name, sha, dest, **kw: dest / name)
    assert corpus500_pairs(tmp_path) == [("我跟朋唷去。", "我跟朋友去。")]
    (tmp_path / corpus500.SDIST).unlink()  # the cache is enough from now on
    assert corpus500_pairs(tmp_path) == [("我跟朋唷去。", "我跟朋友去。")]


def test_no_download_and_no_copy_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusUnavailable, match="corpus500.*downloading is off"):
        corpus500_pairs(tmp_path, download=False)


@pytest.mark.slow
def test_the_real_corpus500_has_its_real_typos_and_nothing_of_the_sighan_test():
    """The set the benchmark reads (fetched once by `make data` into $SA_MODEL_DIR): what pycorrector
    0.4.9's sdist holds, less what overlaps the SIGHAN test."""
    from sales_assistant.models.lab.typo.datasets import dataset_pairs
    from sales_assistant.models.lm.paths import lm_dir

    pairs = required(corpus500_pairs)
    sdist = required(lambda: corpus500.fetch(corpus500.REQUIREMENT, corpus500.SDIST, corpus500.SDIST_SHA256, lm_dir(),
                                             sdist=True))
    assert len(pairs) == 498  # 500, less the two that share a stretch with the SIGHAN test
    assert sum(s != t for s, t in pairs) == 297
    assert all(len(s) == len(t) for s, t in pairs)  # substitutions only, like SIGHAN's
    sighan = [t for p in dataset_pairs("sighan2015") for t in p]
    assert decontaminate(read_sdist(sdist), sighan) == pairs


def test_the_benchmark_names_the_dataset_when_it_cannot_be_fetched(tmp_path, monkeypatch):
    from sales_assistant.models.lab.typo.datasets import dataset_pairs
    from sales_assistant.models.pypi_fetch import FetchFailed

    def offline(*args, **kwargs):
        raise FetchFailed("could not fetch pycorrector==0.4.9 from PyPI: no network")

    monkeypatch.setenv("SA_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(corpus500, "fetch", offline)
    with pytest.raises(SystemExit, match="dataset corpus500: .*no network"):
        dataset_pairs("corpus500")

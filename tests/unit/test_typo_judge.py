"""The contextual typo judge (models/typo/mlm.py): alignment, windows, gains, and its place in the corrector.

The mechanics run on a tiny randomly initialised network saved like the real artifacts, so they need
neither the backbone nor the trained weights; the last test loads the shipped judge.
"""
from __future__ import annotations

import json

import pytest
import torch

from sales_assistant.models.backbone import ArtifactsMissing
from sales_assistant.models.lab.typo.datasets import SALES_TYPOS as SALES
from sales_assistant.models.typo.mlm import MAX_CHARS, CharCorrectorNet, CharJudge, CharVocab

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "，", "。", "a", "邮", "箱", "相", "想", "的", "您", "了"]
TINY = {"vocab_size": len(VOCAB), "embedding_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 130}


@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory) -> CharJudge:
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("judge")
    torch.manual_seed(0)
    net = CharCorrectorNet(TINY)
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, folder / "model.safetensors")
    (folder / "vocab.txt").write_text("".join(f"{t}\n" for t in VOCAB), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"electra": TINY}), encoding="utf-8")
    return CharJudge(folder, threads=1)


def test_one_token_per_character_so_positions_line_up():
    vocab = CharVocab(VOCAB)
    ids = vocab.encode("您的邮相A😀")
    assert ids[0] == vocab.cls and ids[-1] == vocab.sep and len(ids) == len("您的邮相A😀") + 2
    assert ids[5] == VOCAB.index("a")  # Latin letters fold to the lower-case piece
    assert ids[6] == vocab.unk  # what the vocabulary lacks is [UNK], still one position


def test_states_cover_every_character_even_past_one_window(tiny_judge):
    long = "您的邮箱了" * 60  # 300 characters: three windows
    short, empty = "邮相", ""
    states = tiny_judge.states([long, short, empty])
    assert [s.shape[0] for s in states] == [300, 2, 0]
    assert len(long) > 2 * MAX_CHARS
    # windows are read apart: the first character of the second window sees no left context
    [alone] = tiny_judge.states([long[MAX_CHARS:2 * MAX_CHARS]])
    assert torch.allclose(states[0][MAX_CHARS:2 * MAX_CHARS], alone, atol=1e-5)


def test_gains_are_logit_differences_against_the_original(tiny_judge):
    [state] = tiny_judge.states(["您的邮相了"])
    gains = tiny_judge.view(state, "您的邮相了箱想").gains(3, "相", ["箱", "想", "相"])
    assert len(gains) == 3 and gains[2] == pytest.approx(0.0, abs=1e-6)
    net = tiny_judge.net
    with torch.no_grad():
        ids = torch.tensor([tiny_judge.vocab.encode("您的邮相了")])
        logits = net(ids, torch.ones_like(ids))[0, 4]
    v = tiny_judge.vocab.ids
    assert gains[0] == pytest.approx(float(logits[v["箱"]] - logits[v["相"]]), abs=1e-4)


def test_missing_weights_name_the_training_command(tmp_path):
    with pytest.raises(ArtifactsMissing, match="sales_assistant.models.lab.typo.train_mlm"):
        CharJudge(tmp_path)


def test_the_judged_corrector_has_two_more_features_and_its_own_weights(tiny_judge, tmp_path):
    from sales_assistant.models.lm import build_lm_from_texts
    from sales_assistant.models.typo.ngram_csc import FEATURES, JUDGE_FEATURES, NgramCorrector

    lm = build_lm_from_texts(["合同已经发到您的邮箱了，请查收。"] * 3, tmp_path / "t.arpa", order=3)
    corrector = NgramCorrector(lm_path=lm, judge=tiny_judge, params={"threshold": 99.0})
    assert corrector.feature_names == FEATURES + JUDGE_FEATURES and corrector.name == "ngram+mlm"
    cands = corrector.candidates("合同已经发到您的邮相了")
    assert cands and all(len(c.features) == len(FEATURES) + 2 for c in cands)
    with pytest.raises(ValueError, match="refit"):
        NgramCorrector(lm_path=lm, judge=tiny_judge, params={"weights": [0.0] * len(FEATURES)})


def test_the_shipped_judge_leans_towards_the_meant_character():
    """On the sales regression set, the judge wants the fix in the typed sentence more than it wants the
    typo in the clean one, for 14 of the 15 typos (a judge that only copies, or guesses, would split
    them about evenly)."""
    from sales_assistant.models.lab.typo.datasets import read_pairs

    judge = CharJudge()
    pairs = [(s, t) for s, t in read_pairs(SALES) if s != t]
    leans = []
    for typed, meant in pairs:
        typed_state, meant_state = judge.states([typed, meant])
        typed_view, meant_view = judge.view(typed_state, typed + meant), judge.view(meant_state, typed + meant)
        for i, (a, b) in enumerate(zip(typed, meant, strict=True)):
            if a != b:
                leans.append(typed_view.gains(i, a, [b])[0] > meant_view.gains(i, b, [a])[0])
    assert len(leans) == 15 and sum(leans) >= 13, leans


@pytest.mark.slow
def test_the_training_script_runs_and_writes_a_judge_the_corrector_loads(tmp_path):
    """train_mlm end to end for a few seconds, continued once with --init: the 45-minute job's own plumbing
    (backbone, corpus, typos, the batch softmax, saving), not its quality."""
    from sales_assistant.models.lab.typo import train_mlm

    first, second = tmp_path / "first", tmp_path / "second"
    assert train_mlm.main(["--minutes", "0.05", "--threads", "1", "--batch-size", "8", "--out", str(first)]) == 0
    assert train_mlm.main(["--minutes", "0.05", "--threads", "1", "--batch-size", "8", "--dense",
                           "--init", str(first), "--out", str(second)]) == 0
    training = json.loads((second / "config.json").read_text(encoding="utf-8"))["training"]
    assert training["steps"] >= 1 and training["dense"] and training["init"]["steps"] >= 1
    judge = CharJudge(second, threads=1)
    [state] = judge.states(["合同已经发到您的邮相了。"])
    assert state.shape[0] == len("合同已经发到您的邮相了。")
    assert len(judge.view(state, "邮相箱").gains(9, "相", ["箱"])) == 1

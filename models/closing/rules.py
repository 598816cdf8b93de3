"""The rules that are right on their own, asked before the model.

A few questions settle many lines with certainty:
- `is_pure_acknowledgement`: nothing but acknowledgement words, thanks, goodbyes, positive emoji and
  emoticon codes ("好的好的👌", "收到，谢谢[抱拳]", "拜拜") -> closing, whatever a model would say;
- `asks_something` / `raises_a_but`: an explicit question (?, [疑问], 吗, 多少, 能不能 …) or an
  objection after a "but" ("收到，不过金额好像不对") -> needs an answer;
- `is_pure_greeting` ("你好", "打扰一下") and `is_bare_reference` (only a link, number or id)
  -> needs an answer: the first opens a conversation, the second hands the rep something to act on.
Everything else ("好的，我下午看下", "系统又打不开了") is left to the model: the rule abstains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from models.closing.keywords import CLOSING_PHRASES
from models.closing.text import normalize

# keywords.py splits "thank you" on whitespace, so "you" alone would count as thanks; here it does not.
_NOT_ALONE = frozenset({"thank", "you"})
EXTRA_ACKNOWLEDGEMENTS = frozenset(
    """
    thankyou gotit noted get ok了 ok啦 好的没问题 好的明白 好的了解 收到收到 没问题的 嗯嗯嗯 好好
    谢谢谢谢 感谢感谢 太感谢了 十分感谢 万分感谢 多谢多谢 谢谢老师 谢谢哈 好的谢谢啦 清楚了 晓得了 明白明白
    👏 ❤ 💯 🎉 🤗 ☺ 😁 😀 🥰
    [愉快] [呲牙] [鼓掌] [拥抱] [666] [加油] [庆祝] [憨笑] [偷笑] [嘿哈] [太阳] [咖啡] [礼物] [可爱] [月亮]
    拜拜 再见 晚安 回头见 下次见 回聊 周末愉快 合作愉快 新年快乐 节日快乐 下班愉快 bye
    """.split()
)
# A bare greeting opens a conversation: someone has to answer it.
GREETINGS = frozenset(
    """
    你好 您好 你们好 大家好 hello hi hey 哈喽 哈罗 嗨 在 在不 有人 有人在 有人吗 打扰一下 打扰了 打扰 早上好
    上午好 中午好 下午好 晚上好 老师 亲 请教一下 请教个问题 问一下 问个问题 问个事 冒昧问一下 麻烦问一下
    """.split()
)
_SEPARATORS = re.compile(r"[\s,.!~。，、！～…;；:：\-—_*^]+")
_MENTIONS = re.compile(r"@[^\s@]{1,20}")

# Interrogatives that ask in every context they occur in customer chat.
_QUESTION = re.compile(
    r"\?|\[疑问\]|❓|❔|吗|请问|多少|为什么|为啥|是否|什么时候|多久|多长时间|哪里|哪儿|哪个|哪些|咋"
    r"|(?<!不)(.)[不没]\1"  # A-not-A: 能不能 行不行 有没有 是不是 好不好 (but not 不错不错)
    r"|可不可以|了没有?(?=$|[\s,.!~])|到没有?(?=$|[\s,.!~])"
    r"|么(?=$|[\s,.!~])"  # clause-final 么: 好么 行么
)
# "How" asks, unless the writer says they now know how: "我知道怎么弄了".
_HOW = re.compile(r"怎么|怎样|如何")
_KNOWS_HOW = re.compile(r"(知道|明白|懂|清楚|学会|会)了?(怎么|怎样|如何)")
_REFERENCE = re.compile(r"(https?://|www\.)[^\s\u4e00-\u9fff]+|[a-z]*\d[\w.@-]*")
_BUT = re.compile(r"(但是|可是|不过|(?<!不)但(?!愿))")
_NO_HURRY = re.compile(r"^\s*(也)?(不急|不着急|不用急|没关系|没事|也行|都行|问题不大)")


@lru_cache(maxsize=1)
def acknowledgement_tokens() -> frozenset[str]:
    words = (CLOSING_PHRASES - _NOT_ALONE) | EXTRA_ACKNOWLEDGEMENTS
    return frozenset(_SEPARATORS.sub("", normalize(w)) for w in words)


@lru_cache(maxsize=1)
def greeting_tokens() -> frozenset[str]:
    return frozenset(_SEPARATORS.sub("", normalize(w)) for w in GREETINGS)


def _bare(text: str) -> str:
    return _SEPARATORS.sub("", _MENTIONS.sub("", normalize(text)))


def _splits_into(bare: str, vocab: frozenset[str]) -> bool:
    """Can `bare` be cut into pieces that are all in `vocab`? (好的好的👌 = 好的·好的·👌)"""
    if not bare:
        return False
    longest = max(map(len, vocab))
    ends = [True] + [False] * len(bare)
    for i in range(1, len(bare) + 1):
        ends[i] = any(ends[i - k] and bare[i - k:i] in vocab for k in range(1, min(longest, i) + 1))
    return ends[-1]


def is_pure_acknowledgement(text: str) -> bool:
    """Nothing but acknowledgements, thanks, goodbyes, positive emoji and emoticon codes."""
    return _splits_into(_bare(text), acknowledgement_tokens())


def is_pure_greeting(text: str) -> bool:
    """"你好", "@王经理 在", "打扰一下": an opening, and openings want an answer."""
    return _splits_into(_bare(text), greeting_tokens())


def is_bare_reference(text: str) -> bool:
    """Only a link, a number or an id ("13800138000", "https://…", "+1"): something for the rep to act on."""
    rest = _REFERENCE.sub("", _MENTIONS.sub("", normalize(text)))
    return rest != normalize(text) and not _SEPARATORS.sub("", rest).strip("+#:/@()[]")


def asks_something(text: str) -> bool:
    norm = normalize(text)
    if _QUESTION.search(norm):
        return True
    return bool(_HOW.search(norm)) and not _KNOWS_HOW.search(norm)


def raises_a_but(text: str) -> bool:
    """A "but" clause brings a new concern ("谢谢，但是还是不行"), except "不过不急" and the like."""
    norm = normalize(text)
    return any(not _NO_HURRY.match(norm[m.end():]) for m in _BUT.finditer(norm))


@dataclass(frozen=True)
class RuleDecision:
    score: float
    rule: str


def decide(text: str) -> RuleDecision | None:
    """The rule's verdict, or None where the rules abstain and the model decides."""
    if is_pure_acknowledgement(text):
        return RuleDecision(1.0, "pure_acknowledgement")
    if asks_something(text):
        return RuleDecision(0.0, "asks_something")
    if is_pure_greeting(text):
        return RuleDecision(0.0, "pure_greeting")
    if is_bare_reference(text):
        return RuleDecision(0.0, "bare_reference")
    if raises_a_but(text):
        return RuleDecision(0.0, "raises_a_but")
    return None

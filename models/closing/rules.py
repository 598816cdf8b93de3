"""The rules that are right on their own, asked before the model.

Two questions settle most lines with certainty:
- `is_pure_acknowledgement`: nothing but acknowledgement words, thanks, positive emoji and emoticon
  codes ("好的好的👌", "收到，谢谢[抱拳]") -> closing, whatever a model would say;
- `asks_something` / `raises_a_but`: an explicit question (?, 吗, 多少, 能不能 …) or an objection after
  a "but" ("收到，不过金额好像不对") -> needs an answer.
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
    """.split()
)
_SEPARATORS = re.compile(r"[\s,.!~。，、！～…;；:：\-—_*^]+")
_MENTIONS = re.compile(r"@[^\s@]{1,20}")

# Interrogatives that ask in every context they occur in customer chat.
_QUESTION = re.compile(
    r"\?|吗|请问|多少|为什么|为啥|是否|什么时候|多久|多长时间|哪里|哪儿|哪个|哪些|咋"
    r"|(.)[不没]\1"  # A-not-A: 能不能 行不行 有没有 是不是 好不好
    r"|可不可以|了没有?(?=$|[\s,.!~])|到没有?(?=$|[\s,.!~])"
    r"|么(?=$|[\s,.!~])"  # clause-final 么: 好么 行么
)
# "How" asks, unless the writer says they now know how: "我知道怎么弄了".
_HOW = re.compile(r"怎么|怎样|如何")
_KNOWS_HOW = re.compile(r"(知道|明白|懂|清楚|学会|会)了?(怎么|怎样|如何)")
_BUT = re.compile(r"(但是|可是|不过|(?<!不)但(?!愿))")
_NO_HURRY = re.compile(r"^\s*(也)?(不急|不着急|不用急|没关系|没事|也行|都行|问题不大)")


@lru_cache(maxsize=1)
def acknowledgement_tokens() -> frozenset[str]:
    words = (CLOSING_PHRASES - _NOT_ALONE) | EXTRA_ACKNOWLEDGEMENTS
    return frozenset(_SEPARATORS.sub("", normalize(w)) for w in words)


def _bare(text: str) -> str:
    return _SEPARATORS.sub("", _MENTIONS.sub("", normalize(text)))


def is_pure_acknowledgement(text: str) -> bool:
    """True when the whole line splits into acknowledgement tokens ("好的好的👌[强]" = 好的·好的·👌·[强])."""
    bare = _bare(text)
    if not bare:
        return False
    vocab = acknowledgement_tokens()
    longest = max(map(len, vocab))
    ends = [True] + [False] * len(bare)
    for i in range(1, len(bare) + 1):
        ends[i] = any(ends[i - k] and bare[i - k:i] in vocab for k in range(1, min(longest, i) + 1))
    return ends[-1]


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
    if raises_a_but(text):
        return RuleDecision(0.0, "raises_a_but")
    return None

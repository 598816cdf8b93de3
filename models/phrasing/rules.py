"""The text rules: each takes one message and returns where it goes wrong. No model, no I/O.

Every rule reads a ``Message`` (the text plus its protected spans: names, product words, URLs,
numbers, @mentions, emoji; see ``models/typo/protect.py``) and returns ``Hit``s. A hit's span is
in the original text; its ``suggestion``, when there is one, replaces ``text[start:end]``. The
wording for the rep is not made here: ``note`` and ``details`` name it (see ``messages.py``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

from sales_assistant.models.phrasing.curt import curt_in_clause, has_softener


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    suggestion: str | None
    note: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    text: str
    protected: list[tuple[int, int]]

    @cached_property
    def mask(self) -> list[bool]:
        """``mask[i]`` is true when character i is protected."""
        out = [False] * len(self.text)
        for a, b in self.protected:
            out[a:b] = [True] * (b - a)
        return out


def is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def is_break(ch: str) -> bool:
    """Punctuation or space: what ends a clause."""
    return ch.isspace() or unicodedata.category(ch).startswith("P") or ch in "~～|"


def clauses(msg: Message) -> list[tuple[int, int]]:
    """Spans between punctuation and spaces, trimmed of protected ends (emoji, mentions)."""
    text, mask = msg.text, msg.mask
    out = []
    start = 0
    for i in range(len(text) + 1):
        if i < len(text) and not is_break(text[i]):
            continue
        a, b = start, i
        while a < b and mask[a]:
            a += 1
        while b > a and mask[b - 1]:
            b -= 1
        if b > a:
            out.append((a, b))
        start = i + 1
    return out


# --- curt ---------------------------------------------------------------------------------


def curt(msg: Message) -> list[Hit]:
    """Clauses that brush the customer off; the clause is replaced by the group's template."""
    softened = has_softener(msg.text)
    hits = []
    for a, b in clauses(msg):
        found = curt_in_clause(msg.text[a:b], softened)
        if found is not None:
            hits.append(Hit("curt", a, b, found.template, "curt", {"phrase": found.phrase}))
    return hits


# --- informal you -------------------------------------------------------------------------

_GREETING_TAIL = "啊呀哦呢吖哈"


def informal_you(msg: Message) -> list[Hit]:
    """你 addressing one customer -> 您.

    Left alone: 你们 / 你俩 (您们 is not standard Chinese), the greeting 你好 (你好，… / 你好呀),
    你我 (你我之间, 你来我往), 迷你 (mini), and anything inside a protected span.
    """
    text, mask = msg.text, msg.mask
    hits = []
    for i, ch in enumerate(text):
        if ch != "你" or mask[i]:
            continue
        nxt, after = text[i + 1: i + 2], text[i + 2: i + 3]
        if nxt in ("们", "俩", "我") or text[i - 1: i] == "迷":
            continue
        if nxt == "好" and (not after or not is_han(after) or after in _GREETING_TAIL or text[i + 2: i + 4] == "你好"):
            continue
        hits.append(Hit("informal_you", i, i + 1, "您", "informal_you"))
    return hits


# --- duplicated words ---------------------------------------------------------------------

# Single characters whose doubling is a slip, never a word (看看, 谢谢, 好好 are words).
DUP_CHARS = frozenset("的了是在和与给就都也很吗呢吧我您你他她它这那但")
# Two-character words that do not reduplicate. Verbs do (了解了解, 商量商量, 考虑考虑), so a
# doubled two-character word is flagged only when it is in this closed list.
DUP_WORDS = frozenset(
    """
    我们 你们 您们 他们 她们 它们 咱们 大家 自己 我的 你的 您的 他的 她的 这个 那个 这些 那些 这里 那里
    这边 那边 这样 那样 这种 那种 这次 那次 哪个 什么 怎么 但是 可是 不过 因为 所以 如果 假如 要是 而且
    并且 或者 还是 然后 以及 虽然 即使 因此 于是 关于 对于 根据 按照 通过 为了 除了 由于 已经 马上 立即
    立刻 一定 肯定 非常 特别 可能 应该 目前 现在 今天 明天 昨天 刚才 就是 都是 也是 只是 可以 能够 产品
    价格 订单 合同 发票 客户 公司 快递 物流 报价 货款
    """.split()
)
FILLERS = frozenset("啊呀哦噢喔呢吧啦嘛哈嗯了的呗哟额")
# A doubled character that straddles two words: 为了了解, 的的确确 (AABB), 不了了之, 现在在路上.
_SPLIT_WORDS = ("了了解", "的的确", "的的士")
_OK_BEFORE = {
    "的": "目标端",  # 目的的, 标的的
    "是": "但可要若于只总还倒正凡就也都不真像硬而或即便",  # 但是是…, 要是是…
    "在": "现正实存所自好内外",  # 现在在…
    "都": "成京首古国",  # 成都都有…
}
_OK_AFTER = {"在": "线"}  # 在在线


def duplicated_words(msg: Message) -> list[Hit]:
    """A word typed twice in a row (我们我们, 的的, 这是是); the run is replaced by one copy."""
    text, mask = msg.text, msg.mask
    hits = []
    i = 0
    while i < len(text):
        unit, count = _repeat_at(text, i)
        if not unit:
            i += 1
            continue
        end = i + len(unit) * count
        if not any(mask[i:end]) and _is_slip(text, i, unit, count):
            hits.append(Hit("duplicated_word", i, end, unit, "duplicated_word", {"word": unit}))
        i = end
    return hits


def _repeat_at(text: str, i: int) -> tuple[str, int]:
    """The shortest Han unit repeated right at i, and how many times; ("", 0) if none."""
    for length in range(1, 5):
        unit = text[i: i + length]
        if len(unit) < length or not all(is_han(c) for c in unit):
            return "", 0
        if text[i + length: i + 2 * length] == unit:
            count = 2
            while text[i + count * length: i + (count + 1) * length] == unit:
                count += 1
            return unit, count
    return "", 0


def _is_slip(text: str, i: int, unit: str, count: int) -> bool:
    end = i + len(unit) * count
    if _is_whole_clause(text, i, end):
        return False  # 好的好的 / 是是，/ 没问题没问题: an interjection, said twice on purpose
    if len(unit) >= 3:
        return not unit.startswith("一")  # 一步一步, 一点一点
    if len(unit) == 2:
        return unit in DUP_WORDS
    ch = unit
    if count >= 3 or ch not in DUP_CHARS:
        return False  # 是是是 / 哈哈哈 on purpose; 看看, 谢谢 are words
    if text[i + 2: i + 3] and text[i + 2: i + 3] == text[i + 3: i + 4]:
        return False  # AABB: 的的确确, 是是非非
    if i >= 2 and text[i - 2] == text[i - 1]:
        return False  # AABB: 实实在在
    if text[i: i + 3] in _SPLIT_WORDS or text[i - 1: i + 3] == "不了了之":
        return False
    if i > 0 and text[i - 1] in _OK_BEFORE.get(ch, ""):
        return False
    if text[i + 2: i + 3] and text[i + 2] in _OK_AFTER.get(ch, ""):
        return False
    return True


def _is_whole_clause(text: str, start: int, end: int) -> bool:
    a, b = start, end
    while a > 0 and not is_break(text[a - 1]):
        a -= 1
    while b < len(text) and not is_break(text[b]):
        b += 1
    rest = text[a:start] + text[end:b]
    return all(c in FILLERS for c in rest)


# --- run-on -------------------------------------------------------------------------------

SENTENCE_ENDS = "。！？!?；;…～~\n"


def run_on(msg: Message, clause_chars: int, sentence_chars: int) -> list[Hit]:
    """Over ``clause_chars`` characters without any punctuation, or over ``sentence_chars``
    without a sentence end. Characters are text characters: punctuation and spaces do not
    count, a protected number, URL or name counts as one, and emoji or @mentions break.
    """
    sentences: list[list[list[tuple[int, int]]]] = [[[]]]  # sentences -> clauses -> units
    for start, end, kind in _units(msg):
        if kind == "char":
            sentences[-1][-1].append((start, end))
        elif kind == "clause":
            sentences[-1].append([])
        else:
            sentences.append([[]])
    hits = []
    for sentence in sentences:
        long_clauses = [c for c in sentence if len(c) > clause_chars]
        for c in long_clauses:
            hits.append(Hit("run_on", c[0][0], c[-1][1], None, "run_on_clause", {"length": len(c)}))
        units = [u for c in sentence for u in c]
        if not long_clauses and len(units) > sentence_chars:
            hits.append(Hit("run_on", units[0][0], units[-1][1], None, "run_on_sentence", {"length": len(units)}))
    return hits


def _units(msg: Message):
    text = msg.text
    spans = {a: b for a, b in msg.protected}
    i = 0
    while i < len(text):
        if i in spans:
            b = spans[i]
            yield i, b, "clause" if _separates(text[i:b]) else "char"
            i = b
            continue
        ch = text[i]
        if ch in SENTENCE_ENDS or (ch == "." and i > 0 and is_han(text[i - 1])):
            yield i, i + 1, "sentence"
        elif is_break(ch):
            yield i, i + 1, "clause"
        else:
            yield i, i + 1, "char"
        i += 1


def _separates(span: str) -> bool:
    """Emoji and @mentions stand between clauses; numbers, URLs and names are part of one."""
    return span[0] in "@＠[" or unicodedata.category(span[0]) in ("So", "Sk", "Mn", "Cf", "Cs")


# --- brackets and quotes ------------------------------------------------------------------

PAIRS = {"（": "）", "(": ")", "【": "】", "《": "》", "「": "」", "『": "』", "“": "”"}
_FAMILY = {"（": "（", "(": "（", "）": "（", ")": "（"}  # round brackets pair across widths
_CLOSERS = {c: o for o, c in PAIRS.items()}
# "1) 价格 2) 交期" and ":)" use a closer alone on purpose.
_LIST_MARKER = re.compile(r"(?:^|[\s，,。；;：:、])[0-9A-Za-z一二三四五六七八九十]{1,2}$")
_EMOTICON_EYES = ":;：；"


def unbalanced_brackets(msg: Message) -> list[Hit]:
    """（…, 【…, “…, 「…, 《… left open, or a closer with no opener before it.

    An unclosed opener gets a suggestion: its closer, inserted before the next sentence end
    (or at the end of the message); when a wrong closer stands before that point (【含税）), the
    right closer replaces it. A stray closer alone gets none: where its opener belongs is a guess.
    """
    text, mask = msg.text, msg.mask
    stack: list[int] = []
    unclosed: list[int] = []
    hits: list[Hit] = []  # stray closers
    unclosed_hits: list[Hit] = []
    for i, ch in enumerate(text):
        if mask[i]:
            continue
        if ch in PAIRS:
            stack.append(i)
        elif ch in _CLOSERS:
            family = _FAMILY.get(ch, _CLOSERS[ch])
            if any(_FAMILY.get(text[j], text[j]) == family for j in stack):
                while _FAMILY.get(text[stack[-1]], text[stack[-1]]) != family:
                    unclosed.append(stack.pop())
                stack.pop()
            elif not (_emoticon_bracket(text, i) or _list_marker(text, i)):
                hits.append(Hit("unbalanced_brackets", i, i + 1, None, "stray_close", {"open": _CLOSERS[ch], "close": ch}))
    strays = {h.start: h for h in hits}
    for j in sorted(unclosed + stack):
        if _emoticon_bracket(text, j):
            continue
        close = PAIRS[text[j]]
        end = _insertion_point(text, j)
        mismatched = next((k for k in sorted(strays) if j < k < end), None)
        if mismatched is not None:  # 【含税）: the wrong closer, replaced by the right one
            del strays[mismatched]
            unclosed_hits.append(Hit(
                "unbalanced_brackets", j, mismatched + 1, text[j:mismatched] + close, "mismatched",
                {"open": text[j], "close": close, "wrong": text[mismatched]},
            ))
            continue
        suggestion = text[j:end] + close if end > j + 1 else None
        unclosed_hits.append(
            Hit("unbalanced_brackets", j, max(end, j + 1), suggestion, "unclosed", {"open": text[j], "close": close})
        )
    return sorted(unclosed_hits + list(strays.values()), key=lambda h: h.start)


def _emoticon_bracket(text: str, i: int) -> bool:
    """The mouth of :) :( :-) ：）."""
    eyes = text[i - 2: i - 1] if text[i - 1: i] == "-" else text[i - 1: i]
    return text[i] in "()（）" and eyes != "" and eyes in _EMOTICON_EYES


def _list_marker(text: str, i: int) -> bool:
    return text[i] in ")）" and _LIST_MARKER.search(text[max(0, i - 4): i]) is not None


def _insertion_point(text: str, opener: int) -> int:
    for k in range(opener + 1, len(text)):
        if text[k] in SENTENCE_ENDS:
            end = k
            break
    else:
        end = len(text)
    while end > opener + 1 and text[end - 1].isspace():
        end -= 1
    return end


# --- mixed full- and half-width punctuation -----------------------------------------------

FULL_WIDTH = {",": "，", ".": "。", "!": "！", "?": "？", ":": "：", ";": "；"}
_CHINESE_PUNCTUATION = frozenset("，。！？：；、（）【】“”《》「」『』…")


def mixed_punctuation(msg: Message) -> list[Hit]:
    """In a message that already uses Chinese (full-width) punctuation, half-width , . ! ? : ;
    next to Chinese text -> the full-width mark. Numbers (1,000 / 3.5 / 10:30), URLs, English
    clauses, ellipses (...) and emoticons (:) are left alone.
    """
    text, mask = msg.text, msg.mask
    if not any(ch in _CHINESE_PUNCTUATION and not mask[i] for i, ch in enumerate(text)):
        return []
    hits = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch not in FULL_WIDTH or mask[i]:
            i += 1
            continue
        end = i
        while end < len(text) and text[end] == ch and not mask[end]:
            end += 1
        if _beside_chinese(text, i, end) and not (ch == "." and end - i > 1) and not _is_emoticon(text, i):
            hits.append(
                Hit("mixed_punctuation", i, end, FULL_WIDTH[ch] * (end - i), "mixed_punctuation",
                    {"half": ch, "full": FULL_WIDTH[ch]})
            )
        i = end
    return hits


def _beside_chinese(text: str, start: int, end: int) -> bool:
    before = text[:start].rstrip()[-1:]
    after = text[end:].lstrip()[:1]
    before_ok = bool(before) and (is_han(before) or before in "）】”」』》")
    if text[start] == ".":
        return before_ok and not (after and after.isascii() and after.isalnum())
    return before_ok or (bool(after) and is_han(after))


def _is_emoticon(text: str, i: int) -> bool:
    return text[i] in ":;" and text[i + 1: i + 2] in (")", "(", "-", "D", "P", "）", "（")

"""The explanation shown to the rep for each finding, in Chinese (default) or English.

A rule names its note and fills in the details; the wording lives here only, so a product person
can change it without touching a rule.
"""
from __future__ import annotations

LANGS = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "curt": {
        "zh": "“{phrase}”听起来生硬、像在敷衍客户，建议换成更礼貌的说法。",
        "en": "“{phrase}” sounds curt, as if brushing the customer off; use a polite phrasing.",
    },
    "informal_you": {
        "zh": "对客户请用敬称“您”，不要用“你”。",
        "en": "Address the customer with the polite 您 rather than 你.",
    },
    "duplicated_word": {
        "zh": "“{word}”重复了，可能多打了一遍。",
        "en": "“{word}” is repeated; it was probably typed twice.",
    },
    "run_on_clause": {
        "zh": "连续{length}个字没有任何标点，客户读起来吃力，建议用逗号或句号断开。",
        "en": "{length} characters without any punctuation are hard to read; break them up with commas or full stops.",
    },
    "run_on_sentence": {
        "zh": "这一句有{length}个字，中间没有句号、问号或感叹号，建议拆成几句。",
        "en": "This sentence runs {length} characters without a full stop, question or exclamation mark; split it up.",
    },
    "unclosed": {
        "zh": "括号或引号没有配对：{open} 后面缺少 {close}。",
        "en": "Unbalanced: {open} is never closed with {close}.",
    },
    "mismatched": {
        "zh": "括号没有配对：{open} 应该用 {close} 结束，而不是 {wrong}。",
        "en": "Unbalanced: {open} should be closed with {close}, not {wrong}.",
    },
    "stray_close": {
        "zh": "括号或引号没有配对：多了一个 {close}，前面没有对应的 {open}。",
        "en": "Unbalanced: {close} has no matching {open} before it.",
    },
    "mixed_punctuation": {
        "zh": "同一条消息里混用了全角和半角标点，中文里请用全角“{full}”代替半角“{half}”。",
        "en": "Full- and half-width punctuation are mixed in one message; in Chinese text use the full-width “{full}” instead of “{half}”.",
    },
    "low_fluency": {
        "zh": "这句话读起来不太通顺（语言模型每字对数概率 {score:.2f}，低于正常销售用语的下限 {threshold:.2f}），请检查用词和语序。",
        "en": "This sentence reads unnaturally (language-model log10 probability per character {score:.2f}, "
        "below {threshold:.2f}, the floor for normal sales text); check the wording and word order.",
    },
    # appended to the explanation of a finding that offers no rewrite
    "no_rewrite": {
        "zh": "暂无更好的说法可以直接替换。",
        "en": " No better wording to suggest.",
    },
}


def render(note: str, lang: str, **details: object) -> str:
    return MESSAGES[note][lang].format(**details)

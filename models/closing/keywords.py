"""The built-in closing list: exact acknowledgements only, so a question never slips through."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

CLOSING_PHRASES = frozenset(
    """
    好 好的 好滴 好哒 好嘞 好咧 好啊 好呀 好吧 好的呢 好的哈 好的呀 好的好的 好哒好哒 好嘞好嘞
    嗯 嗯嗯 嗯呢 嗯好 嗯嗯好的 哦 哦哦 哦好的 噢 噢噢 行 行的 可以 可以的 没问题 没事 没事了
    收到 收到了 收到啦 收到收到 已收到 了解 了解了 明白 明白了 知道了 懂了 ok okay okk 好的ok 好的收到
    谢谢 谢谢你 谢谢您 多谢 感谢 非常感谢 谢啦 谢了 thx thanks 谢谢啦 好的谢谢 好的感谢 收到谢谢
    辛苦 辛苦了 辛苦啦 辛苦辛苦 麻烦了 麻烦你了 麻烦您了 已经解决了 解决了 搞定了 搞定 可以了 好了
    👌 👍 🙏 🤝 ✌️ 💪 🌹 😊 😄 👌🏻 👍🏻 🙏🏻
    [ok] [强] [抱拳] [握手] [玫瑰] [微笑] [胜利] [爱心] [耶] [好的] [赞] [合十]
    """.split()
) | {"thank you", "ok thanks", "ok thank you"}  # phrases with a space, listed whole
_TRAILING = re.compile(r"[\s~～!！。.,，、~…]+$")
_LEADING = re.compile(r"^(@\S+\s*)+")


def _normalize(text: str) -> str:
    text = _LEADING.sub("", text.strip())
    return _TRAILING.sub("", text).lower()


class KeywordClosing:
    name = "keywords"
    threshold = 0.5

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()  # as LearnedClosing's: "lines" scored, "model" always 0

    def scores(self, texts: Sequence[str]) -> list[float]:
        self.stats["lines"] += len(texts)
        self.stats["model"] += 0
        return [1.0 if _normalize(t) in CLOSING_PHRASES else 0.0 for t in texts]

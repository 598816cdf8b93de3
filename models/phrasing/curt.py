"""Curt replies: the phrases that brush a customer off, and the polite line to say instead.

Two tiers, because the same words are curt on their own and polite inside a longer sentence
("不知道。" versus "不知道您明天方便吗？"):

* a **bare** curt phrase is a whole clause that is nothing but the phrase, give or take a few
  filler words ("我也不清楚啊", "那没办法了", "随便"). It counts only when the message has no
  softener: "不清楚，我帮您问一下" already does what the template would do.
* a **rude** phrase is curt wherever it stands ("你自己看一下吧", "爱买不买"), unless it is negated
  ("不用你自己查，我来").

Each phrase belongs to a group, and the group decides the template that replaces the clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# group -> (bare clause cores, rude anywhere phrases, polite template)
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "unsure": (
        ("不知道", "不清楚", "不晓得", "不确定", "不了解", "不懂", "没听说过", "谁知道"),
        ("我怎么知道", "我哪知道", "我哪儿知道"),
        "这个我确认一下，稍后回复您",
    ),
    "self_serve": (
        ("自己看", "自己查", "自己找", "自己去看", "自己去查", "自己研究", "看说明书"),
        ("你自己看", "你自己查", "你自己去看", "你自己去查", "自己不会看", "不会自己看"),
        "我把相关说明发给您，有不清楚的地方随时问我",
    ),
    "whatever": (
        ("随便", "随你", "随你便", "随便你", "无所谓", "看着办", "你看着办"),
        (),
        "都可以的，看您的需要，我也可以给您推荐一下",
    ),
    "cannot": (
        ("没办法", "没法", "没辙", "办不了", "做不了", "弄不了", "管不了", "不行", "不可能", "不能"),
        (),
        "抱歉，这个暂时办不到，我看看有没有其他办法帮到您",
    ),
    "not_mine": (
        ("找别人", "问别人", "找客服", "问客服", "不是我负责", "不是我管"),
        ("找别人去", "问别人去", "不归我管", "关我什么事", "关我屁事", "不关我的事", "不关我事",
         "跟我没关系", "和我没关系", "与我无关"),
        "这个由负责的同事处理，我帮您转给他们，稍后给您回复",
    ),
    "busy": (
        ("没空", "没时间", "在忙", "忙着呢", "忙着"),
        ("别烦我", "烦不烦", "别问我"),
        "我这边正在处理其他事情，稍后回复您",
    ),
    "repeat": (
        ("说过", "说了", "不是说了吗", "不是说过吗", "不是说过了吗", "看不懂吗", "听不懂吗"),
        ("说了多少遍", "说过多少遍", "看不懂吗", "听不懂吗", "自己不会看吗", "不会自己看吗"),
        "我再给您说明一下",
    ),
    "take_it": (
        ("爱买不买", "爱要不要", "不买拉倒", "不要拉倒"),
        ("爱买不买", "爱要不要", "不买拉倒", "不要拉倒", "买不买随你"),
        "您可以再考虑一下，有任何问题随时找我",
    ),
}

# Words around a bare core that do not change what it says.
_PREFIX = "(?:我|也|都|就|真|真的|确实|反正|其实|还是|这个|那个|这|那|你|您|那我|这我)*"
_SUFFIX = "(?:啊|呀|哦|噢|喔|呢|吧|啦|嘛|哈|了|的|耶|诶|哎|呗|哟|额|吗)*"
# A message with one of these is already taking care of the customer.
SOFTENERS = (
    "抱歉", "不好意思", "对不起", "帮您", "为您", "给您", "替您", "稍等", "稍后", "马上", "请您", "麻烦您",
    "确认一下", "问一下", "问问", "查一下", "查查", "核实", "回复您", "联系您", "告诉您", "同事",
)
_NEGATED = ("不用", "不需要", "无需", "不必", "不要", "别")

_core_group = {core: g for g, (cores, _, _) in GROUPS.items() for core in cores}
_rude_group = {p: g for g, (_, rude, _) in GROUPS.items() for p in rude}
_BARE = re.compile(
    _PREFIX + "(?P<core>" + "|".join(sorted(map(re.escape, _core_group), key=len, reverse=True)) + ")" + _SUFFIX
)
_RUDE = re.compile("|".join(sorted(map(re.escape, _rude_group), key=len, reverse=True)))


@dataclass(frozen=True)
class Curt:
    phrase: str  # the curt words as written
    group: str

    @property
    def template(self) -> str:
        return GROUPS[self.group][2]


def has_softener(text: str) -> bool:
    return any(s in text for s in SOFTENERS)


def curt_in_clause(clause: str, softened: bool) -> Curt | None:
    """The curt phrase of one clause (no punctuation inside), or None when it is fine."""
    for m in _RUDE.finditer(clause):
        if not clause[: m.start()].endswith(_NEGATED):
            return Curt(m.group(), _rude_group[m.group()])
    if softened:
        return None
    m = _BARE.fullmatch(clause)
    if m is None:
        return None
    return Curt(m.group("core"), _core_group[m.group("core")])

"""Words every surface shares for the domain's codes, in zh-CN and English: why a room ranks where it
does, and why a request was refused.

The rules return codes with their facts (a `Reason` from policies/priority.py, a `Refused` from
policies/access.py); the Lark card, the console, the dashboard, the API and the exports all say them
with these words, so one phrase has one home. It sits with
the surfaces (connectors is the lowest layer that shows text to people; web imports it) rather than in
the domain, which holds no words except a level's own labels (core/levels.py). The dashboard's other
words are in web/i18n.py.
"""
from __future__ import annotations

from sales_assistant.core import levels
from sales_assistant.policies.access import Refusal, Refused
from sales_assistant.policies.priority import Priority, Reason, Why

# code -> (zh, en); topics: "<label>：<words>" / "<label>: <words>"
_PHRASES: dict[Why, tuple[str, str]] = {
    Why.NOT_WAITING: ("无等待", "not waiting"),
    Why.STAGE: ("售前群优先", "pre-sales first"),
    Why.QUESTION: ("客户在提问", "customer asks a question"),
    Why.URGENT: ("客户提到", "customer mentions"),
    Why.PRICE: ("询问价格", "asks about price"),
    Why.CONTRACT: ("涉及合同", "about the contract"),
    Why.PAYMENT: ("涉及付款", "about payment"),
}


def reason_text(reason: Reason, lang: str = "zh") -> str:
    """One reason as a line a person reads: "客户已等待 23 分钟" / "waiting 23 min"."""
    en = lang == "en"
    if reason.code is Why.WAITING:
        return _waited(reason.minutes or 0, en)
    if reason.code is Why.LEVEL:
        label = levels.label(reason.level, lang)
        return f"alert reached {label}" if en else f"已到{label}提醒"
    zh_text, en_text = _PHRASES[reason.code]
    if reason.words:
        return f"{en_text}: {', '.join(reason.words)}" if en else f"{zh_text}：{'、'.join(reason.words)}"
    return en_text if en else zh_text


def explain(priority: Priority, lang: str = "zh") -> str:
    """Every reason of a priority, highest points first, on one line."""
    return ("; " if lang == "en" else "；").join(reason_text(r, lang) for r in priority.reasons)


def _waited(minutes: int, en: bool) -> str:
    if minutes < 1:
        return "customer just wrote" if en else "客户刚发消息"
    if minutes < 60:
        return f"waiting {minutes} min" if en else f"客户已等待 {minutes} 分钟"
    h, m = divmod(minutes, 60)
    return f"waiting {h} h {m} min" if en else f"客户已等待 {h} 小时 {m} 分钟"


# A room's stage as people read it: on the Lark card, the dashboard and in refusals.
STAGES: dict[str, tuple[str, str]] = {"pre_sales": ("售前", "Pre-sales"), "after_sales": ("售后", "After-sales")}

# A rep's focus or away state (policies/presence.PresenceState) as people read it: dashboard, cards, console.
PRESENCE_STATES: dict[str, tuple[str, str]] = {"focus": ("专注", "Focus"), "meeting": ("会议", "In a meeting"),
                                               "away": ("外出", "Away"), "off": ("下班", "Off work")}


def presence_text(state: str | None, lang: str = "zh") -> str:
    """"专注" / "Focus"; "在岗" / "At work" when no state is set."""
    if not state:
        return "At work" if lang == "en" else "在岗"
    zh, en = PRESENCE_STATES.get(state, (state, state))
    return en if lang == "en" else zh


# code -> (zh, en), str.format templates over the refusal's facts (and `stage_zh`, the stage's zh name)
REFUSALS: dict[Refusal, tuple[str, str]] = {
    Refusal.NOT_YOURS: ("这不是您负责的群聊", "this room is not yours"),
    Refusal.READ_ONLY: ("只读账号不能修改", "a viewer account cannot change anything"),
    Refusal.MANAGER_ONLY: ("只有管理者可以这样做", "only a manager can do this"),
    Refusal.HAS_OWNER: ("该群已有负责人，请联系管理者改派", "the room has an owner; ask a manager to reassign it"),
    Refusal.OWN_ROOMS_ONLY: ("只能操作自己负责的群聊", "you can only act on your own rooms"),
    Refusal.NOT_ON_ROSTER: ("花名册中没有员工 {staff_id}", "no staff member {staff_id!r} on the roster"),
    Refusal.WRONG_ROLE: ("{name} 不是{stage_zh}人员，不能负责{stage_zh}群",
                         "{name} is not {role} staff and cannot own a {stage} room"),
    Refusal.PENDING: ("该群已有待核准的变更", "this room already has a change waiting for approval"),
    Refusal.SAME_STAGE: ("群聊已处于该阶段", "the room is already in that stage"),
    Refusal.NO_GOING_BACK: ("售后群不能退回售前", "an after-sales room cannot go back to pre-sales"),
    Refusal.NEEDS_OWNER: ("转入售后需要指定新的售后负责人", "a hand-over to after-sales needs the new owner"),
    Refusal.TAKER_NOT_STAFF: ("只有花名册中的员工可以跟进群聊", "only staff on the roster can take over a room"),
    Refusal.CANNOT_OWN: ("该员工不能负责群聊", "this staff member cannot own rooms"),
    Refusal.RANGE_REVERSED: ("结束日期早于开始日期", "end: the range ends before it starts"),
    Refusal.RANGE_TOO_LONG: ("最多 {days} 天", "end: at most {days} days"),
    Refusal.DAY_OUT_OF_RANGE: ("{field}：日期须在 {first} 与 {last} 之间", "{field}: a day from {first} to {last}"),
    Refusal.SNOOZE_MINUTES: ("稍后提醒的分钟数须在 1 到 {max} 之间", "minutes: between 1 and {max}"),
    Refusal.NO_APPROVAL: ("没有这条待核准记录", "no approval {approval_id!r}"),
    Refusal.ROOM_CHANGED: ("提出变更后群聊已被修改，请重新提交", "the room changed since the proposal; propose again"),
    Refusal.DECIDED: ("这条变更已经处理过了", "this change was decided already"),
    Refusal.NO_ROOM: ("没有这个群聊", "no room {room_id!r}"),
    Refusal.NO_CLOCK: ("该群当前没有在计时", "the room has no running clock"),
    Refusal.NO_JUDGEMENT: ("该群没有可重新计时的结束语判定（可能已在计时或已回复）",
                           "nothing to restart: no message of this room was judged closing (or a clock runs, or staff answered)"),
    Refusal.EMPTY_SAY: ("text：发送内容不能为空", "text: nothing to say"),
    Refusal.INTEGRATION_ONLY: ("{field}：只有集成令牌可以代他人操作", "{field}: only the integration token acts for someone"),
    Refusal.OWN_STATE_ONLY: ("只能设置自己的状态", "you can only set your own state"),
    Refusal.PRESENCE_STATE: ("state：状态须为 {states} 之一", "state: one of {states}"),
    Refusal.PRESENCE_LENGTH: ("{field}：须在现在之后，最多 {max_days} 天", "{field}: after now, at most {max_days} days ahead"),
    Refusal.FOLLOWUP_HOLD: ("action：须为 {holds} 之一", "action: one of {holds}"),
    Refusal.FOLLOWUP_MINUTES: ("minutes：稍后提醒的分钟数须在 1 到 {max} 之间", "minutes: between 1 and {max}"),
}


def judged_text(score: float, lang: str = "zh") -> str:
    """A doubtful closing label that started no clock: "判定为结束语 (0.74)" / "judged closing (0.74)"."""
    return f"judged closing ({score:.2f})" if lang == "en" else f"判定为结束语 ({score:.2f})"


def refusal_text(refused: Refused, lang: str = "zh") -> str:
    """Why a request was refused, as the person reads it: "只读账号不能修改" / "a viewer account cannot change anything"."""
    zh_text, en_text = REFUSALS[refused.code]
    if lang == "en":
        return en_text.format(**refused.facts)
    stage = refused.facts.get("stage")
    return zh_text.format(**refused.facts, stage_zh=STAGES.get(stage, (stage,))[0])


# The follow-up of an idle room (policies/followups.py): its Lark card, console line and button answers.
FOLLOWUP_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "跟进提醒 · 群聊已 {days} 天没有新消息",
        "room": "群聊", "owner": "负责人", "unassigned": "无负责人", "stage": "阶段",
        "last_message_at": "最后一条消息（{tz}）", "at": "提醒时刻（{tz}）",
        "exchange": "最近的对话", "customer": "客户", "staff": "我方", "empty": "（没有可显示的文字）",
        "take": "我来跟进", "snooze": "稍后提醒 {days} 天", "customer_writes": "客户回复后再提醒", "stop": "不再跟进",
        "id": "跟进编号",
        "done_take": "{name} 我来跟进", "done_snooze": "{name} 稍后提醒 {days} 天",
        "done_customer": "{name} 等客户回复后再提醒", "done_stop": "{name} 不再跟进此群",
        "line": "跟进提醒 {room} · {owner} · 已 {days} 天无新消息（最后一条 {last}）",
    },
    "en": {
        "title": "Follow up · no new message for {days} days",
        "room": "Room", "owner": "Owner", "unassigned": "unassigned", "stage": "Stage",
        "last_message_at": "Last message ({tz})", "at": "Reminder at ({tz})",
        "exchange": "Last exchange", "customer": "Customer", "staff": "Us", "empty": "(no text to show)",
        "take": "I'll follow up", "snooze": "Remind me in {days} days", "customer_writes": "When the customer writes",
        "stop": "Stop following up", "id": "Follow-up",
        "done_take": "{name} is following up", "done_snooze": "{name} snoozed it for {days} days",
        "done_customer": "{name} waits for the customer", "done_stop": "{name} stopped follow-ups of this room",
        "line": "Follow up {room} · {owner} · quiet for {days} days (last message {last})",
    },
}


def holiday_gap_text(gaps: dict[str, list[int]], lang: str = "zh") -> str:
    """The warning for calendars whose statutory holidays are unknown for a year that matters now
    (Policy.holiday_gaps): doctor, /api/health and the dashboard's banner say it with these words."""
    years = sorted({year for found in gaps.values() for year in found})
    teams = ", ".join(gaps)
    shown = "、".join(map(str, years)) if lang != "en" else ", ".join(map(str, years))
    if lang == "en":
        return (f"China's public holidays for {shown} are not known yet (calendars: {teams}): those days count "
                f"their weekly hours only. Give them under calendars.<team>.dates, or update chinese-calendar.")
    return (f"{shown} 年的法定节假日与调休尚未可知（日历：{teams}）：这些日子暂按每周工作时间计算。"
            f"请在 calendars.<团队>.dates 中写入，或升级 chinese-calendar。")

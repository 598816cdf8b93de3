"""What the dashboard says, in Chinese first and English.

The words for the domain's own codes live with them: a level's label in core/levels.py (`t("red")`
finds it there), why a room ranks where it does in connectors/i18n.py (`reason_text`, `explain`),
shared with the Lark card and the console.
"""
from __future__ import annotations

from sales_assistant.connectors.i18n import STAGES
from sales_assistant.core import levels

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("销售助理", "Sales Assistant"),
    "today": ("今日群聊", "Today"),
    "rooms": ("群聊总表", "All rooms"),
    "approvals": ("待核准", "Approvals"),
    "unassigned": ("无负责人", "Unassigned"),
    "performance": ("绩效", "Performance"),
    "alerts": ("警报", "Alerts"),
    "audit": ("审计日志", "Audit log"),
    "roster": ("花名册", "Roster"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "wrong username or password"),
    "login_wait": ("登录失败次数过多，请 {s} 秒后再试", "Too many failed logins: try again in {s} s"),
    "room": ("群聊", "Room"),
    "owner": ("负责人", "Owner"),
    "stage": ("阶段", "Stage"),
    **STAGES,
    "waiting": ("等待", "Waiting"),
    "not_waiting": ("未在计时", "not waiting"),
    "last_speaker": ("最后说话者", "Last speaker"),
    "last_message": ("最后一句话", "Last message"),
    "level": ("警报", "Alert"),
    "priority": ("优先级", "Priority"),
    "why": ("排序原因", "Why"),
    "actions": ("操作", "Actions"),
    "cancel_clock": ("消除计时", "Cancel clock"),
    "snooze": ("稍后提醒", "Snooze"),
    "take_over": ("我来跟进", "Take over"),
    "assign": ("指派", "Assign"),
    "propose": ("申请转售后", "Propose after-sales"),
    "approve": ("核准", "Approve"),
    "reject": ("驳回", "Reject"),
    "status": ("状态", "Status"),
    "pending": ("待核准", "pending"),
    "approved": ("已核准", "approved"),
    "rejected": ("已驳回", "rejected"),
    "proposed_by": ("申请人", "Proposed by"),
    "decided_by": ("处理人", "Decided by"),
    "new_owner": ("新负责人", "New owner"),
    "from_to": ("变更", "Change"),
    "messages": ("最近消息", "Recent messages"),
    "findings": ("措辞与错别字建议", "Wording suggestions"),
    "clock": ("计时", "Clock"),
    "since": ("开始于", "since"),
    "snoozed_until": ("提醒暂停至", "snoozed until"),
    "minutes": ("分钟", "min"),
    "no_rows": ("暂无数据", "nothing here"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "all"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "search": ("搜索群名", "Search topic"),
    "from": ("从", "From"),
    "to": ("到", "To"),
    "show": ("查看", "Show"),
    "export": ("导出", "Export"),
    "sales_table": ("销售", "Reps"),
    "rooms_table": ("群聊", "Rooms"),
    "episodes_table": ("每次等待", "Episodes"),
    "by_hour": ("按小时的平均回复时间", "Reply time by hour of day"),
    "over_by_day": ("每日超时次数", "Over-threshold answers by day"),
    "leaderboard": ("排行榜", "Leaderboard"),
    "quality": ("回复质量（每百条问题数）", "Quality (flagged per 100)"),
    "quality_examples": ("问题示例与建议", "Examples and suggestions"),
    "longest_waits": ("等待最久", "Longest waits"),
    "episodes": ("回复次数", "Answered"),
    "over_threshold": ("超时", "Late"),
    "avg_reply": ("平均回复(分钟)", "Avg reply (min)"),
    "total_messages": ("消息", "Messages"),
    "flagged_per_100": ("每百条问题", "Flagged / 100"),
    "customer": ("客户", "Customer"),
    "reply": ("回复", "Reply"),
    "time": ("时间", "Time"),
    "who": ("操作人", "Who"),
    "what": ("操作", "What"),
    "before": ("之前", "Before"),
    "after": ("之后", "After"),
    "via": ("来源", "Via"),
    "on_behalf_of": ("代表", "on behalf of"),
    "name": ("姓名", "Name"),
    "role": ("角色", "Role"),
    "team": ("团队", "Team"),
    "private_chat": ("飞书私人群", "Lark private chat"),
    "public_chat": ("飞书公共群", "Lark public chat"),
    "open_id": ("飞书 open_id", "Lark open_id"),
    "users": ("账号", "Accounts"),
    "lark_behind": ("飞书暂时无法送达：警报已保存，恢复后按顺序发出；等待中的警报", "Lark is behind: alerts are kept and go out in order once it answers; waiting"),
    "lark_folded": ("；积压超过上限，较早的提醒已合并进这些卡片，合并条数",
                    "; past the limit, earlier alerts were folded into those cards, folded"),
    "live": ("实时", "live"),
    "reason": ("原因", "Reason"),
    "note": ("备注", "Note"),
    "done": ("已提交", "Done"),
    "open": ("仍在等待", "still waiting"),
    "lang_switch": ("English", "中文"),
    "viewer_note": ("只读账号", "read-only account"),
    "customer_messages": ("客户消息", "Customer messages"),
    "team_messages": ("团队消息", "Team messages"),
    "hour": ("小时", "Hour"),
    "day": ("日期", "Day"),
    "rank": ("名次", "Rank"),
    "corrected": ("建议改为", "Suggested"),
    "phrasing": ("措辞", "Phrasing"),
    "alert_targets": ("推送到", "Sent to"),
    "sales": ("销售", "sales"),
    "manager": ("管理者", "manager"),
    "viewer": ("只读", "viewer"),
    "employee": ("员工", "employee"),
    "bot": ("机器人", "bot"),
}

# Export column headers (web/export.py) in Chinese; an English export keeps the field names, which
# programs read. A column the dashboard already names borrows its word (column -> TEXTS key).
_DASHBOARD_WORD = {"stage": "stage", "name": "name", "role": "role", "episodes": "episodes", "priority": "priority",
                   "why": "why", "last_speaker": "last_speaker", "team_messages": "team_messages", "hour": "hour",
                   "day": "day", "rank": "rank", "corrected": "corrected", "open": "open", "owner_name": "owner",
                   "last_text": "last_message", "avg_reply_minutes": "avg_reply", "at": "time", "ts": "time",
                   "customer_name": "customer", "reply_message": "reply"}
COLUMNS_ZH: dict[str, str] = {
    **{column: TEXTS[key][0] for column, key in _DASHBOARD_WORD.items()},
    "room_id": "群ID", "topic": "群名", "owner_id": "负责人ID", "staff_id": "员工ID", "over_threshold": "超时次数",
    "total_messages": "消息总数", "cancelled_episodes": "取消计时", "open_episodes": "未回复",
    "checked_messages": "已检查消息", "flagged_messages": "有问题消息", "flagged_per_100": "每百条问题数",
    "waiting": "等待中", "waited_minutes": "已等待(分钟)", "level": "警报级别", "customer_message": "客户消息",
    "customer_at": "客户发言时间", "reply_at": "回复时间", "reply_minutes": "回复用时(分钟)", "ended_by": "结束方式",
    "replies": "回复数", "customer_messages": "客户消息数", "text": "原文", "phrasing": "措辞问题",
    "sender_name": "发送人", "started_at": "开始等待",
}

# str.format templates over retry_s: Redis is restarting or loading its data
REDIS_DOWN = ("数据库暂时不可用（正在重启或加载数据），请 {retry_s} 秒后重试；重复发送的消息不会被重复计入",
              "the database is unavailable (restarting or loading its data); retry in {retry_s} s: "
              "a message sent twice is never counted twice")

ACTIONS = {
    "cancel_clock": ("消除计时", "cancelled a clock"),
    "snooze": ("稍后提醒", "snoozed"),
    "take_over": ("我来跟进", "took over"),
    "reassign": ("指派负责人", "reassigned"),
    "propose_stage": ("申请阶段变更", "proposed a stage change"),
    "approve_stage": ("核准阶段变更", "approved a stage change"),
    "reject_stage": ("驳回阶段变更", "rejected a stage change"),
    "create_user": ("创建账号", "created an account"),
    "issue_token": ("签发 API 令牌", "issued an API token"),
}


def translator(lang: str):
    """`t(key)`: the dashboard's word for `key`, an action's, or a level's label; the key itself if none."""
    index = 0 if lang == "zh" else 1

    def t(key: str) -> str:
        pair = TEXTS.get(key) or ACTIONS.get(key)
        if pair:
            return pair[index]
        return levels.label(key, lang)  # an unknown key comes back as itself
    return t

"""The rules that are right on their own, asked before the model.

A few questions settle many lines with certainty:
- `is_pure_acknowledgement`: nothing but acknowledgement words, thanks, goodbyes, positive emoji and
  emoticon codes ("好的好的👌", "收到，谢谢[抱拳]", "拜拜") -> closing, whatever a model would say;
- `asks_something` / `raises_a_but`: an explicit question (?, [疑问], 吗, 多少, 能不能 …) or an
  objection after a "but" ("收到，不过金额好像不对") -> needs an answer;
- `is_pure_greeting` ("你好", "刘老师你好，打扰一下") and `is_bare_reference` (only a link, number or id)
  -> needs an answer: the first opens a conversation, the second hands the rep something to act on;
- `reports_a_lapse` ("会员快用完了", "授权已经过期了") -> needs an answer: an expiry or a used-up quota
  is a renewal for the rep to handle, unless the writer says it is handled ("不续了", "已续费").
- `asks_us_to_act` / `chases_us` (issue 14): a clause that tells us to do something ("合同发我一下",
  "好的，那你把账号开一下", "发货了告诉我") or chases us ("尽快", "等你们回复", "老板问进度", "我们很急")
  -> needs an answer, whatever acknowledgement comes before it; a clause whose subject is the writer
  ("我们尽快盖章", "我下午看下") is the writer's own plan and asks nothing.
- `points_at_a_topic` / `calls_on_a_person` (issue 14, rounds 4-5): @mentions and nothing but a topic
  ("@王经理 这个单子", "@李总 合同的事"), a bare order ("@Kevin 看群") or a thing handed over ("@赵工 日志发你了")
  -> needs an answer: the customer asks that person for attention. "@李总 谢谢", "@王经理 好的" stay closing.
Wishes ("元旦快乐", "祝生意兴隆") and thanks to a named person ("辛苦技术同学", "谢谢王总") count as
acknowledgements: they are patterns, not a list, so a holiday or a title never seen still reads right.
Everything else ("好的，我下午看下", "系统又打不开了") is left to the model: the rule abstains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sales_assistant.models.closing.keywords import CLOSING_PHRASES
from sales_assistant.models.closing.text import normalize

# keywords.py splits "thank you" on whitespace, so "you" alone would count as thanks; here it does not.
_NOT_ALONE = frozenset({"thank", "you"})
EXTRA_ACKNOWLEDGEMENTS = frozenset(
    """
    thankyou gotit noted get ok了 ok啦 好的没问题 好的明白 好的了解 收到收到 没问题的 嗯嗯嗯 好好
    谢谢谢谢 感谢感谢 太感谢了 十分感谢 万分感谢 多谢多谢 谢谢老师 谢谢哈 好的谢谢啦 清楚了 晓得了 明白明白
    👏 ❤ 💯 🎉 🤗 ☺ 😁 😀 🥰
    [愉快] [呲牙] [鼓掌] [拥抱] [666] [加油] [庆祝] [憨笑] [偷笑] [嘿哈] [太阳] [咖啡] [礼物] [可爱] [月亮]
    拜拜 再见 晚安 回头见 下次见 回聊 周末愉快 合作愉快 新年快乐 节日快乐 下班愉快 bye
    完美 太棒了 太好了 棒 很棒 真棒 赞 点赞 给力 牛 厉害 妥了 妥妥的 妥 没毛病 好说 收悉 已阅 可 好耶 👍👍
    """.split()
)
# A wish closes whatever the occasion: X快乐, X愉快, X安康, 生意兴隆 … ("祝" and a "you" may lead).
# Never after 不 / 没 ("合作不愉快" is a grievance).
_WISH = re.compile(
    r"(祝(你们|您们|你|您|大家|各位|贵司|贵公司)?)?"
    r"((?:(?![不没])[\u4e00-\u9fff]){1,4}(快乐|愉快|安康|顺利|如意|大吉|兴隆|顺心|顺遂|幸福|发财|广进|高升|吉祥)"
    r"|身体健康|心想事成|一路顺风|一路平安|出入平安|祝好|好运"
    r"|(明天|后天|下周[一二三四五六日]?|周[一二三四五六日末]|改天|回头|下次|晚点|待会儿?|一会儿?|稍后|下午|晚上|节后)(见|聊))")
# Thanks to a person ("辛苦技术同学", "谢谢王总", "各位辛苦了"): the person is no request. A Latin name ends
# where the letters end, so a run of letters splits one way only (else `(…)+` backtracks exponentially
# over a long English line).
_PERSON = (r"(各位|大家|你们|您们|你|您|亲|(技术|客服|售后|销售|产品|运营|财务|实施|运维)?"
           r"(同学|小哥哥|小哥|小姐姐|美女|帅哥|老师|师傅|专家|工程师|团队|同事|小伙伴|大佬|兄弟|伙伴|们)"
           r"|[\u4e00-\u9fff]{1,2}?(老师|经理|总|工|顾问|姐|哥)|小[\u4e00-\u9fff]|[a-z]{2,12}(?![a-z])|技术|客服|售后)")
_THANKED = re.compile(rf"(谢谢|感谢|多谢|辛苦|谢过)({_PERSON})+(了|啦|哈|啊|呀)?|麻烦({_PERSON})+了"
                      rf"|({_PERSON})+(辛苦了|辛苦啦|辛苦|谢谢)")
# A name or title before a greeting ("刘老师你好"): still a greeting.
_NAME = re.compile(r"[\u4e00-\u9fff]{1,2}?(老师|经理|总|工|顾问)|小[\u4e00-\u9fff]|[a-z]{2,12}")
# Words that report a failure ("登录失败", "数据对不上", "页面超时"). The rule abstains when the same line
# says it is fixed, explains a cause, or is conditional ("之前的报错没有了", "有问题再找你们").
_PROBLEM = re.compile(
    r"失败|报错|错误|出错|异常|故障|崩溃|崩了|闪退|白屏|乱码|卡死|卡住|打不开|打不通|登不上|登录不了|进不去|用不了|不能用"
    r"|没反应|没有反应|收不到|没收到|还没到|没到账|超时|掉线|连不上|加载不出|无法|丢了|丢失|不见了|不生效|失效|不显示"
    r"|显示不全|对不上|不一致|多扣|扣错|重复扣|开错|写错|填错|算错|发错|寄错|弄错|错了|投诉|没人理|没人回|没人处理"
    r"|还没处理|还没解决|没解决|还是不行|还是一样|还是老样子|bug|暂无权限|没有权限|没权限|无权限"
    r"|(?<!没)(?<!不会)(有|出|有点|有些|出了)问题|不对劲|(?<![对是])不对(?!吗)|不一样|太卡|很卡|好卡|卡顿|太慢|很慢|特别慢"
    r"|不起作用|不管用|没生效|没发出|发不出|没动静|挂了|一片空白|被封|封号|被限制|踢下线|被踢|乱了|不同步|重复发"
    r"|(挺|很|太|真|确实|好|特别|非常)(慢|麻烦(?![你您了啦大各]))|太差|很差|不满意|太难用|很难用|别扭|转圈|占线|自动退出|弹错|不回复了|不回了|乱回"
    r"|(^|了|也|还是|根本|都)没用(啊|呀)?$|(挺|很|太|真|确实|好|特别|非常|有点)坑"
    r"|重复了(?![一两三]?[遍次])|有重复|[两几多](条|份|个|笔)重复")
_FIXED_OR_IFFY = re.compile(
    r"(?<![不没未])(好了|解决了|正常|恢复|搞定|处理好|弄好|修好|修复|成功|能用了|可以了|收到了|到账了|找到)"
    r"|没问题|不报错|没有了|没再"
    r"|不再|不(闪退|卡|掉线|超时|出错|乱码|白屏|报错|丢)了?|原因|原来|是我们|我们自己|不用了|不急|没事|再找|再联系|再说|再问|随时|如果|万一|的话|以后|下次|避免|之前")
_LAPSE = re.compile(r"到期|过期|快用完|用完了|余额不足|欠费|停用|被暂停|被停|只剩|还剩.{0,3}天|就结束了|快结束了")
_LAPSE_HANDLED = re.compile(r"不续|不用续|不需要续|不再续|已续|续好了|续费成功|续上了|充值成功|已充值|已经充|已经续"
                            r"|到期(前|后)?再(说|续|看|联系)")
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
# Requests and chasers are judged clause by clause. A clause whose subject is the writer ("我下午看下",
# "我们尽快盖章", "我把你推给我们IT") is the writer's own plan and asks nothing; every other clause that tells
# us to act does ("合同发我一下", "那你把账号开一下", "发货了告诉我", "麻烦尽快").
_CLAUSES = re.compile(r"[,，。.!！;；~～…\s]+")
_WRITER_ACTS = re.compile(r"^(那|那就|就|先|然后|回头|等下|晚点|待会|明天|今天|下午|晚上|这边|这个|好的|行)*"
                          r"(我|我们|咱们|咱)(?!们?(的|这个))"
                          r"|(?<![给发寄诉知叫跟帮让找系步回转传])(我|我们|咱们)(会|这边|那边|先|再|就|马上|自己|这就"
                          r"|已经|今天|明天|下午|晚上|回头|晚点)")
# "Us" below is the sales team; "me"/"us" in the customer's mouth is the customer: 发我, 给我们, 告诉我.
_REQUEST = re.compile(
    r"(发|给到|给|寄|传|转|回复|答复|回)(一下|下|个|份|一份)?(我们|我)(?!们|这边|自己|看过|已|都|也|收到)"
    r"|(告诉|通知|告知|知会|提醒|叫|联系|同步)(一下|下)?(我们|我)(?!们|这边|自己|看过|已|都|也|收到)|(说|讲|吱|回)(一声|个话)"
    r"|帮(我|我们|忙)?(把|查|看|开|改|加|约|申请|催|导|处理|弄|做|安排|问|确认|发|寄|重置|删|关|升级|延|跟进"
    r"|恢复|装|配|调|出|拉|预约|退|核对|对一下|停)"
    r"|麻烦(你|你们|您|一下)?(帮|把|给|尽快|看|查|处理|发|开|安排|跟进|回|确认|同步|催|改|出|重|寄|加|拉|通知|转|导"
    r"|派|约|打|提供|做|升级|退|核|跟|优先)"
    r"|记得(把|给|发|提醒|寄|开|加|通知|带|回|跟|帮|同步|安排|退|改)"
    r"|(你|你们|您)(先|再|帮忙)?(确认|查|处理|核对|核实|定|回复|跟进|催)(一)?下"
    r"|请(你|你们|您)?(先|再)?(把|尽快|安排|帮|给|发|寄|出|提供|确认|处理|查|看|回|派|今天|马上|拉)"
    r"|那(你|你们|您)(先|再|就|把|帮|给|去|来|出|拟|派|安排|赶紧|尽快|确认|发|申请|看|查|弄)"
    r"|^(你|你们|您)(先|再)?(把|帮我|给我|去跟|出个|拟个|派个|安排(?![得的了好])|处理完|弄好|确认好|改好)"
    r"|^(那|那就|先|就|再)*把.{1,20}(发|给|寄|改|开|删|升级|延长|重置|导|退|拉|调|加|转|整理|关|换|停)"
    r"|^(安排|开通|开一下|开个|发一下|发个|发份|寄一下|出一份|出个|导一份|给个|打个电话)(?![了好完过])"
    r"|^(那|那就)?(明天|今天|下午|上午|晚上|周.|下周.?|回头|晚点|待会|稍后|等下|改天)*(你|你们|您)(这边|那边)?(明天|今天|下午|上午|晚上|尽快|先|再|就"
    r"|马上|赶紧)*(来|过来|出|发|给|约|弄|改|派|寄|开|联系|拉|整理|把)"
    r"|^(麻烦|帮忙|劳驾)(一下|下)?$"
    r"|(请|麻烦|尽快|赶紧|抓紧|帮忙|你们?|您|那就)安排(?!吧|$|得|的|了|好)|(?<!等)(你|你们|您)(来|看着)?安排(一下|下)?吧?$"
    r"|(发|开|寄|传|弄|改|办|处理)(好了|完了?|出来)(告诉|通知|说|叫|跟)")
# Things or people that come to the writer ("把样品寄过来", "派个人过来", "那就周三下午来我们公司一趟"): we
# are the ones to send or come. Not when the clause thanks for a past trip or says it already happened
# ("谢谢你们专门来一趟", "上次来我们公司"), nor "跑一趟" (辛苦李总跑一趟 is thanks).
_TO_US = re.compile(
    r"(?<![不没未])(发|寄|传|派|送|拿|带|递|转|导|拉)[^,，。!！]{0,10}?(?<![不没])过来(?![了的过])"
    r"|(?<!跑)(来|过来)(我们|我)?(这边|公司|这里|现场|办公室|单位|门店|店里|仓库|厂里)?一趟(?![了的])"
    r"|来(我们|我)(这边|公司|这里|现场|办公室|单位|门店|店里|仓库|厂里)(?![了的])")
# Asking for one of our colleagues ("那就请技术看下日志", "请你们财务明天开票"): the sales team is to act.
_THROUGH_STAFF = re.compile(
    r"请(你们|贵司)?的?(技术|工程师|售后|客服|财务|实施|运维|产品|负责人)(同事|同学|经理|小哥|老师)?"
    r"(明天|今天|下午|上午|晚上|马上|尽快|回头|先|再|\d+点|[一二三四五六七八九十]+点)*"
    r"(来|过来|看|查|处理|联系|帮|给|跟|确认|回|上线|修|改|开|讲|进群|到群|打|出)")
_THANKS_OR_PAST = re.compile(r"谢|感谢|上次|之前|昨天|前天|上周|那次|来过|已经")
# Chasers and deadlines: the writer is waiting on us, and says so.
_CHASE = re.compile(
    r"尽快|赶紧|抓紧|加急|催|进度|进展(?!我)|(老板|领导|客户)(在|又|一直|也)?(问|催|等)"
    r"|等(着)?(你|你们|您)?(的)?(消息)?(回复|回音|答复|回话|确认|结果|反馈|准信)|盼复|盼回复|坐等|在线等"
    r"|给个(准话|答复|回复|说法|结论|时间|答案)|书面说明|必须|一定要|最后期限|deadline|拖了|拖太久|拖这么久"
    r"|等了(很久|好久|半天|一上午|一下午|一晚上|这么久|[一二两三四五六七八九十几\d]+(天|周|个|小时))"
    r"|没人(回|理|管|处理)|还没(人)?(回|处理)|怎么还没|要用了|就要用|着急用|等着(上线|用|要)")
# Time already spent on us, or a need that is now ("这个问题已经反馈一周了", "我们这边等着上线呢", "我都问了三遍了"):
# a chaser whoever the subject is, so the whole line is read, unless what follows says it is solved
# ("等了两天，现在好了").
_WAITED = re.compile(r"(反馈|提|报|问|催|说|等)了?(已经)?((好几|[一二两三四五六七八九十几\d]+|半)"
                     r"(天|周|个星期|个礼拜|个月|次|遍|回|个小时|小时|上午|下午|晚上)|很久|好久|半天|这么久)了"
                     r"|等着(上线|用|要)")
_URGENT = re.compile(r"急")
_NOT_URGENT = re.compile(r"(不|别|没|无)[^,，。!！]{0,3}急")

# "Again" with a failure ("今天又复现了", "又宕机了", "报表又停了"): the line's news is that it is broken
# now, whatever was said to be fixed before it ("上次说修好了，今天又复现了"). Only what follows the last
# relapse can take it back ("又卡住了，重启就好了"). "复现不了" / "没法复现" is no relapse.
_RELAPSE = re.compile(r"(?<!没法)(?<!无法)(?<!不能)(?<![没不])复现(?![不])"
                      r"|(又|再次|又一次)(出现|犯|坏|断|停|崩|宕|挂|卡|慢|乱|掉|失败|报错|出错|出问题|不行|不能|抽风"
                      r"|打不开|登不上|收不到|没了|丢)")
# A line that is @mentions and the thing they point at ("@李总 合同的事", "@小美 这个", "@王经理 报价那块",
# "@张顾问 上面说的那个", "@陈工 这个客户", "@孙工 下午那个报错", "@Amy 我们这边的工单"): the customer hands a
# topic to a named person, who has to pick it up. The things are a sales deal's objects (quote, contract,
# invoice, …), a case (客户, 项目, 单子, 问题 …) or a pointer (这个, 那件事, 上面的), after a time, a place or
# "ours" at most. Nothing else may be on the line: a verb ("合同收到了", "这个可以") is left to the others.
_POINTER = r"(这个|那个|这几个|那几个|这块|那块|这件事|那件事|这事|那事|这边|那边|这单|那单)"
_DEAL_OBJECT = (r"(报价单?|价格|合同|发票|账单|对账单|方案|订单|工单|续费|付款|退款|回款|尾款|培训|日志|截图|账号|权限"
                r"|数据|报表|接口|演示|排期|物流|快递|样品|资料|文档|需求|bug)")
_CASE = r"(单子|项目|客户|问题|报错|事情|事儿|申请|审批|盖章|对接|上线|安装|部署|升级|迁移|故障|情况)"
_WHOSE = (r"((上面|上边|楼上|前面|刚才|刚刚|昨天|今天|上午|下午|早上|晚上|上次|之前|上周|群里|邮件里|我们这边|我这边"
          r"|我们|客户|客户那边)(说|提|发|讲|问|报|反馈)?的?)?")
_TOPIC = re.compile(rf"{_WHOSE}({_POINTER}?({_DEAL_OBJECT}|{_CASE}){{1,2}}(的事情?|的事儿|的问题|那个|这个|那块|这块|那边"
                    rf"|那件事|这件事)?|{_POINTER})呢?"
                    r"|(上面|上边|楼上|前面)(说|提|发|讲|问)?的")
# After @mentions, nothing but a bare order to look, follow up or reply ("@Kevin 看群", "@小陈 跟进一下",
# "@赵经理 回下消息"), or something of ours to act on handed over ("@赵工 日志发你了", "@孙工 截图在群里"):
# the named person is to act. Thanks, acknowledgements, plans and results have other words and never match
# the whole line ("@李总 看到了", "@陈工 查到了，谢谢", "@周老师 好的，会议邀请我发你了").
_LOOK = re.compile(r"(帮忙|帮|麻烦|请)?(再|赶紧|快)?(看|看看|瞅|瞅瞅|瞄|查|查查|跟|跟进|处理|确认|核对|回|回复|回个|催|盯)"
                   r"(一下|下|一眼|一)?(群|群里|群消息|私信|私聊|邮件|邮箱|消息|信息|微信|电话|上面|楼上|这个|这里|这单|工单"
                   r"|截图|日志|附件|后台)?(呗|哈|呀|啊|吧)?")
_HANDED_OVER = re.compile(r"(我|我们)?(把)?(日志|截图|报错截图|报错信息|错误信息|录屏|视频|附件|需求|问题|开票信息|付款截图"
                          r"|订单号|单号|名单|清单)(我|我们)?(已经)?"
                          r"((发|传|放|贴|上传)(给|到|在)?(你|您|你们|群里|群|邮箱|你邮箱|私信)(了|啦)?|在(上面|群里|邮件里|邮箱里))")
_CODES = re.compile(r"\[[^\]]{1,6}\]")
_BUT = re.compile(r"(但是|可是|不过|(?<!不)但(?!愿))")
_NO_HURRY = re.compile(r"^\s*(也)?(不急|不着急|不用急|没关系|没事|也行|都行|问题不大)")


@lru_cache(maxsize=1)
def acknowledgement_tokens() -> frozenset[str]:
    words = (CLOSING_PHRASES - _NOT_ALONE) | EXTRA_ACKNOWLEDGEMENTS
    return frozenset(_SEPARATORS.sub("", normalize(w)) for w in words)


@lru_cache(maxsize=1)
def greeting_tokens() -> frozenset[str]:
    return frozenset(_SEPARATORS.sub("", normalize(w)) for w in GREETINGS)


@lru_cache(maxsize=8)
def _longest(vocab: frozenset[str]) -> int:
    return max(map(len, vocab))


# Each rule normalises the line it is given; one line goes through several rules in a row.
_normalize = lru_cache(maxsize=1024)(normalize)


def _bare(text: str) -> str:
    return _SEPARATORS.sub("", _MENTIONS.sub("", _normalize(text)))


def _splits_into(bare: str, vocab: frozenset[str]) -> bool:
    """Can `bare` be cut into pieces that are all in `vocab`? (好的好的👌 = 好的·好的·👌)"""
    if not bare:
        return False
    longest, n = _longest(vocab), len(bare)
    reached = [True] + [False] * n  # reached[i]: bare[:i] splits; only reached starts are tried
    for i in range(n):
        if reached[i]:
            for j in range(i + 1, min(n, i + longest) + 1):
                if bare[i:j] in vocab:
                    reached[j] = True
    return reached[n]


def is_pure_acknowledgement(text: str) -> bool:
    """Nothing but acknowledgements, thanks (to a person, too), wishes, goodbyes, positive emoji and codes."""
    bare = _bare(text)
    if _splits_into(bare, acknowledgement_tokens()):
        return True
    folded = _THANKED.sub("谢谢", _WISH.sub("祝好", bare))
    return folded != bare and _splits_into(folded.replace("祝好", "谢谢"), acknowledgement_tokens())


def is_pure_greeting(text: str) -> bool:
    """"你好", "@王经理 在", "刘老师你好，打扰一下": an opening, and openings want an answer."""
    bare = _bare(text)
    if _splits_into(bare, greeting_tokens()):
        return True
    unnamed = _NAME.sub("", bare)
    return unnamed != bare and _splits_into(unnamed, greeting_tokens())


def reports_a_problem(text: str) -> bool:
    """"登录失败", "导出的数据对不上": a failure, not fixed in the same breath, wants the rep."""
    norm = _normalize(text)
    return bool(_PROBLEM.search(norm)) and not _FIXED_OR_IFFY.search(norm)


def reports_a_lapse(text: str) -> bool:
    """"会员快用完了", "授权已经过期了": something ran out, and a renewal is the rep's to answer."""
    norm = _normalize(text)
    return bool(_LAPSE.search(norm)) and not _LAPSE_HANDLED.search(norm)


def is_bare_reference(text: str) -> bool:
    """Only a link, a number or an id ("13800138000", "https://…", "+1"): something for the rep to act on."""
    rest = _REFERENCE.sub("", _MENTIONS.sub("", _normalize(text)))
    return rest != _normalize(text) and not _SEPARATORS.sub("", rest).strip("+#:/@()[]")


def asks_something(text: str) -> bool:
    norm = _normalize(text)
    if _QUESTION.search(norm):
        return True
    return bool(_HOW.search(norm)) and not _KNOWS_HOW.search(norm)


def raises_a_but(text: str) -> bool:
    """A "but" clause brings a new concern ("谢谢，但是还是不行"), except "不过不急" and the like."""
    norm = _normalize(text)
    return any(not _NO_HURRY.match(norm[m.end():]) for m in _BUT.finditer(norm))


def _others_clauses(text: str) -> list[str]:
    """The clauses of a line that are not the writer's own plan, with @mentions dropped."""
    clauses = _CLAUSES.split(_MENTIONS.sub(" ", _normalize(text)))
    return [c for c in clauses if c and not _WRITER_ACTS.search(c)]


def asks_us_to_act(text: str) -> bool:
    """"合同发我一下", "那你把账号开一下", "发货了告诉我", "麻烦帮我查下": a clause that tells us to do something.
    After an acknowledgement too: "好的，那合同发我" asks, whatever the 好的 before it."""
    return any(_REQUEST.search(c) or ((_TO_US.search(c) or _THROUGH_STAFF.search(c)) and not _THANKS_OR_PAST.search(c))
               for c in _others_clauses(text))


def _last_stands(pattern: re.Pattern[str], norm: str) -> bool:
    """Does `pattern` occur, with nothing after its last occurrence saying it is fixed or conditional?"""
    ends = [m.end() for m in pattern.finditer(norm)]
    return bool(ends) and not _FIXED_OR_IFFY.search(norm[ends[-1]:])


def reports_a_relapse(text: str) -> bool:
    """"上次说修好了，今天又复现了", "报表又停了": broken again, unless what follows says it is fixed."""
    return _last_stands(_RELAPSE, _normalize(text))


def points_at_a_topic(text: str) -> bool:
    """"@李总 合同的事", "@小美 这个", "@王经理 这个单子": @mentions and nothing but the topic they hand over."""
    rest = _after_mentions(text)
    return rest is not None and bool(_TOPIC.fullmatch(rest))


def _after_mentions(text: str) -> str | None:
    """What a line that opens with an @mention says besides its mentions and emoticon codes (None if it
    does not open with one); short lines only, as a pointer or an order after a name is short."""
    norm = _normalize(text)
    if not norm.startswith("@"):
        return None
    rest = _SEPARATORS.sub("", _CODES.sub("", _MENTIONS.sub("", norm)))
    return rest if 0 < len(rest) <= 16 else None


def calls_on_a_person(text: str) -> bool:
    """"@Kevin 看群", "@小陈 跟进一下", "@赵工 日志发你了": @mentions and a bare order, or a thing handed over."""
    rest = _after_mentions(text)
    return rest is not None and bool(_LOOK.fullmatch(rest) or _HANDED_OVER.fullmatch(rest))


def chases_us(text: str) -> bool:
    """"尽快", "等你们回复", "老板问进度", "我们很急": a deadline or a chaser. "不急" and "我们尽快盖章" are not."""
    norm = _normalize(text)
    if _URGENT.search(norm) and not _NOT_URGENT.search(norm):
        return True
    if _last_stands(_WAITED, norm):
        return True
    return any(_CHASE.search(c) for c in _others_clauses(text))


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
    if reports_a_lapse(text):
        return RuleDecision(0.0, "reports_a_lapse")
    if reports_a_problem(text):
        return RuleDecision(0.0, "reports_a_problem")
    if reports_a_relapse(text):
        return RuleDecision(0.0, "reports_a_relapse")
    if points_at_a_topic(text):
        return RuleDecision(0.0, "points_at_a_topic")
    if calls_on_a_person(text):
        return RuleDecision(0.0, "calls_on_a_person")
    if asks_us_to_act(text):
        return RuleDecision(0.0, "asks_us_to_act")
    if chases_us(text):
        return RuleDecision(0.0, "chases_us")
    return None

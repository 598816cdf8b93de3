"""Build the labelled closing-reply set: `python -m models.closing.build_dataset [--check]`.

Every line is a customer message in a B2B SaaS sales group (a CRM / customer-service product: trials,
quotes, contracts, invoices, renewals, accounts, reports, API, outages). Label 1: the message closes the
exchange and needs no answer ("好的", "收到[抱拳]", "好的，我下午看下"); label 0: it still wants one
("在吗", "？", "好的，那价格是多少？", "收到，不过金额好像不对", "好的吗？").

Lines come from hand-written bodies, each dressed in a few deterministic variants (punctuation, an
@mention, an emoji or emoticon code, an acknowledgement before it, a question or a "but" after it).
A body and all its variants form one *group*; whole groups are assigned to train / dev / test
(70 / 15 / 15 within each family), so no near-duplicate of a test line is ever trained on.

The output is a pure function of this file: same code, same bytes. `--check` verifies the shipped
file against a fresh build.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "closing.jsonl"
SEED = "closing-v1"
SPLITS = (("train", 0.70), ("dev", 0.15), ("test", 0.15))

REPS = ["王经理", "李总", "小张", "陈工", "刘老师", "张顾问", "Amy", "小美", "赵经理", "孙工", "Kevin", "周老师"]
MENTION_SPACES = ["\u2005", " "]  # WeChat puts U+2005 after an @mention; pasted text has a plain space
ENDINGS = ["", "～", "！", "。", "~", "!", "~~", "哈", "…", "!!", "～～", "啦"]
POSITIVE_EMOJI = ["👌", "👍", "🙏", "🤝", "👌🏻", "👍🏻", "🙏🏻", "💪", "🌹", "😊", "😄", "✌️", "👏", "❤️", "😁"]
POSITIVE_CODES = ["[OK]", "[强]", "[抱拳]", "[握手]", "[玫瑰]", "[微笑]", "[胜利]", "[爱心]", "[耶]", "[好的]",
                  "[赞]", "[合十]", "[愉快]", "[呲牙]", "[鼓掌]", "[拥抱]", "[666]", "[加油]", "[憨笑]", "[庆祝]"]
NEGATIVE_MARKS = ["[疑问]", "[发怒]", "[抓狂]", "[流泪]", "[裂开]", "[捂脸]", "[叹气]", "[撇嘴]", "[擦汗]",
                  "😡", "😭", "😤", "🙄", "😓", "❓", "[尴尬]", "[晕]"]
ACK_PREFIXES = ["好的，", "好的 ", "好的好的，", "嗯嗯，", "OK，", "ok ", "收到，", "谢谢，", "明白了，", "了解，",
                "行，", "好嘞，", "哦哦，", "可以，", "辛苦了，", "收到收到，", "好的👌 ", "[OK] ", "谢谢[抱拳] ",
                "好滴，", "嗯，", "知道了，", "好的[强] ", "收到[抱拳]，"]
BUTS = ["不过", "但是", "可是", "但"]


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: int
    kind: str
    family: str
    group: str
    split: str


# ----------------------------------------------------------------------------------------------------
# Bodies. A tuple (body, [contrast, ...]) carries lines that look alike but mean the opposite; they stay
# in the body's group, so a pair like 好的 / 好的吗？ is never split across train and test.
# ----------------------------------------------------------------------------------------------------

ACKS: list[tuple[str, list[str]]] = [
    ("好的", ["好的吗？", "好的？"]), ("好滴", []), ("好哒", []), ("好嘞", []), ("好的呢", []), ("好的哈", []),
    ("好的亲", []), ("好的呀", []), ("好吧", ["好吧？"]), ("好", ["好不好"]), ("嗯嗯", ["嗯？"]), ("嗯", []),
    ("嗯呢", []), ("嗯嗯好的", []), ("嗯好", []), ("哦哦", ["哦？"]), ("哦哦好的", []), ("噢噢", []),
    ("行", ["行吗", "行不行"]), ("行的", []), ("行行行", []), ("可以", ["可以吗", "这样可以吗"]),
    ("可以的", ["可以的吧？"]), ("可以可以", []), ("没问题", ["没问题吧？", "确定没问题吗"]), ("没问题的", []),
    ("OK", ["OK吗", "ok?"]), ("ok", ["ok吗？"]), ("okk", []), ("OK的", []), ("ok了", []), ("好的ok", []),
    ("收到", ["收到没", "收到没有？"]), ("收到了", ["收到了吗", "还没收到", "没收到"]), ("收到啦", []),
    ("收到哈", []), ("收到收到", []), ("已收到", []), ("好的收到", []), ("了解", ["想了解一下"]),
    ("了解了", ["不太了解"]), ("明白", []), ("明白了", ["明白了吗？", "不太明白"]), ("明白明白", []),
    ("知道了", ["不知道啊"]), ("知道啦", []), ("懂了", ["没看懂"]), ("get", []), ("get了", []), ("got it", []),
    ("noted", []), ("谢谢", []), ("谢谢你", []), ("谢谢您", []), ("谢谢啦", []), ("谢啦", []), ("多谢", []),
    ("感谢", []), ("非常感谢", []), ("十分感谢", []), ("太感谢了", []), ("感谢感谢", []), ("谢谢谢谢", []),
    ("thx", []), ("thanks", []), ("thank you", []), ("好的谢谢", []), ("好的感谢", []), ("收到谢谢", []),
    ("收到，感谢", []), ("辛苦了", []), ("辛苦啦", []), ("辛苦辛苦", []), ("辛苦", []), ("麻烦了", []),
    ("麻烦您了", []), ("麻烦你了", []), ("搞定了", ["搞定了吗", "搞定没", "还没搞定"]), ("搞定", []),
    ("解决了", ["解决了吗", "还没解决", "没解决"]), ("已经解决了", []), ("可以了", ["可以了吗？"]),
    ("好了", ["好了吗", "好了没", "还没好"]), ("好了好了", []), ("没事了", []), ("没事", []), ("妥了", []),
    ("妥妥的", []), ("完美", []), ("太棒了", []), ("好的没问题", []), ("行，没问题", []), ("好的明白", []),
    ("明白了，谢谢", []), ("清楚了", ["不太清楚"]), ("清楚了，谢谢", []), ("懂了懂了", []), ("晓得了", []),
    ("了解了解", []), ("嗯嗯嗯", []), ("好的好的好的", []), ("OK啦", []), ("哈哈好的", []), ("哈哈哈，好的", []),
    ("嗯嗯，知道了", []), ("好嘞收到", []), ("好的呢亲", []), ("嗯嗯好的谢谢", []), ("好的，了解了", []),
    ("收到，明白", []), ("okok", []), ("好好好", []), ("对，没问题", []), ("好的，明白了", []),
]

EMOJI_ONLY: list[str] = [
    "👌", "👍", "🙏", "🤝", "💪", "🌹", "😊", "😄", "✌️", "👏", "❤️", "😁", "👌🏻", "👍🏻", "🙏🏻", "🎉", "💯",
    "[OK]", "[强]", "[抱拳]", "[握手]", "[玫瑰]", "[微笑]", "[胜利]", "[爱心]", "[耶]", "[好的]", "[赞]",
    "[合十]", "[愉快]", "[呲牙]", "[鼓掌]", "[拥抱]", "[666]", "[加油]", "[憨笑]", "[庆祝]",
    "👌👍", "[强][抱拳]", "🙏[玫瑰]", "[OK][强]", "👍[握手]",
]

THANKS: list[tuple[str, list[str]]] = [
    ("谢谢{rep}", []), ("好的，谢谢{rep}", []), ("辛苦{rep}了", ["辛苦{rep}再看下"]),
    ("感谢{rep}的耐心解答", []), ("好的，麻烦{rep}了", []), ("{rep}辛苦了", []), ("多谢{rep}帮忙", []),
    ("感谢{rep}，效率真高", []), ("谢谢你们，服务很到位", []), ("太感谢了，帮大忙了", []), ("好的，感谢支持", []),
    ("感谢你们的耐心", []), ("谢谢{rep}，解释得很清楚", []), ("辛苦了，这么晚还在回复", []),
    ("感谢{rep}这么快处理", []), ("收到，谢谢{rep}", []), ("谢谢大家", []), ("谢谢技术同学", []),
    ("感谢各位的支持", []), ("谢谢{rep}，周末还打扰你", []), ("辛苦各位了", []), ("给{rep}点个赞", []),
    ("你们的服务真不错", []), ("好的，谢谢耐心讲解", []), ("谢谢，帮了大忙", []), ("嗯嗯，谢谢{rep}", []),
    ("谢谢{rep}的方案", []), ("好的，辛苦技术同学", []), ("感谢{rep}及时回复", []),
]

RESOLVED: list[tuple[str, list[str]]] = [
    ("现在可以正常登录了", ["现在可以正常登录了吗", "还是不能正常登录"]), ("问题解决了", ["问题还是没解决"]),
    ("导出成功了", ["导出还是失败"]), ("报表能打开了", ["报表还是打不开"]), ("刚试了下，好了", ["刚试了下，还是不行"]),
    ("重启后正常了", ["重启后还是一样"]), ("验证码收到了", ["验证码还是收不到"]), ("发票收到了", ["发票还没收到"]),
    ("合同收到了", ["合同还没收到"]), ("账号开通了", ["账号还没开通"]), ("密码改好了", []), ("页面正常了", []),
    ("数据同步过来了", ["数据还是没同步过来"]), ("数据都对上了", ["数据还是对不上"]), ("已经能用了", []),
    ("刷新一下就好了", []), ("现在没问题了", []), ("测试通过了", ["测试没通过"]), ("对接成功了", ["对接还是失败"]),
    ("邮件收到了", ["邮件没收到"]), ("退款收到了", ["退款还没到账"]), ("快递收到了", ["快递还没到"]),
    ("录屏收到了", []), ("链接能打开了", ["链接打不开"]), ("权限有了", ["还是提示没有权限"]), ("短信能发出去了", []),
    ("群发成功了", ["群发又失败了"]), ("报价单收到了", []), ("升级好了，挺顺利的", []), ("APP不闪退了", ["APP还是闪退"]),
    ("已经看到了", []), ("找到入口了", ["找不到入口"]), ("钱已经到账了", []), ("子账号都加好了", []),
    ("导入成功了，一共三千多条", []), ("跑通了", []), ("之前的报错没有了", []), ("余额对上了", []),
]
RESOLVED_TAILS = ["", "，谢谢", "，辛苦了", "，感谢", "，谢谢{rep}", "[强]", "👍", "[抱拳]", "，麻烦了", "～"]

WRAPUPS: list[tuple[str, list[str]]] = [
    ("好的，我下午看一下", []), ("收到，我转给财务", []), ("好的，我们内部讨论一下再联系你", []),
    ("行，那就按这个方案来", []), ("好的，明天上午见", []), ("好的，我先试试", []), ("那我先去忙了", []),
    ("好，回头聊", []), ("好的，我跟老板汇报下", []), ("嗯，我再观察一下", []), ("可以可以，那我们先按这个来", []),
    ("好的，有问题我再找你们", []), ("好的，有什么问题我再找您", []), ("好的，我知道怎么操作了", []),
    ("知道怎么弄了，谢谢", []), ("好的，那就这么定了", []), ("好的，没什么问题了", []), ("那先这样，谢谢", []),
    ("好的，我晚点回复你", []), ("好的，我回头发你", []), ("好的，等你们消息", []), ("好的，等你好消息", []),
    ("嗯嗯，那我等通知", []), ("收到，我们尽快盖章", []), ("好的，周一把合同寄出", []), ("好的，我这就去付款", []),
    ("好的，我让同事加你微信", []), ("好的，我拉同事进群", []), ("好的，我把资料整理好发你", []),
    ("好的，我们先用着看看", []), ("OK，我们先试用一周", []), ("好的，过几天再说", []),
    ("好的，这几天我们先测试一下", []), ("好的，不着急，慢慢来", []), ("好的，不过不急，你们排期就行", []),
    ("好的，下次有需要再联系", []), ("好的，那我们下周再约", []), ("好的，我会转达给领导的", []),
    ("好的，我通知下面的同事", []), ("收到，我去跟财务确认下", []), ("好的，我这边没问题了", []),
    ("那今天就先到这", []), ("好的，祝合作愉快", []), ("合作愉快", []), ("好的，周末愉快", []),
    ("好的，辛苦你们加班了", []), ("收到，我们按流程走", []), ("好的，那我先下单了", []), ("好的，我记下了", []),
    ("记下了，谢谢", []), ("好的，我们研究一下", []), ("好的，我再考虑考虑", []), ("没有了，谢谢", []),
    ("暂时没有了", []), ("没别的问题了", []), ("没有其他问题了，谢谢", []), ("好的，就这样吧", []),
    ("那就这样，辛苦了", []), ("行吧，那先这样", []), ("好的，我先看看文档", []), ("收到，晚上我仔细看下", []),
    ("好的，开完会我再跟你说", []), ("嗯嗯，我先去开会了", []), ("好的，明天我让技术对接你们", []),
    ("好的，我们这边准备一下", []), ("好的，资料我已经发邮箱了", []), ("好的，不打扰了", []),
    ("好的，那我等快递", []), ("了解，那我们先不升级了", []), ("好的，那续费的事下个月再说", []),
    ("好的，按你说的办", []), ("没问题，就按你说的来", []), ("好的，你们先忙", []), ("好的，早点休息", []),
    ("好的，我明天问下财务", []), ("好的，有需要我再联系你", []), ("嗯嗯，我回去跟团队同步一下", []),
]

QUESTIONS: list[str] = [
    "价格是多少", "企业版多少钱一年", "怎么导出报表", "发票什么时候能开", "能开专票吗", "你们支持私有化部署吗",
    "有API文档吗", "续费有优惠吗", "子账号怎么加", "多久能上线", "历史数据能迁移过来吗", "试用期多长",
    "可以按月付费吗", "支持多少人同时在线", "能对接企业微信吗", "数据存在哪里", "合同走什么流程",
    "培训怎么安排", "售后是谁负责", "为什么登录不上", "这个功能在哪里设置", "报价单能再发一份吗", "能便宜点吗",
    "有没有教育版", "是不是要重新登录", "能不能加急处理", "什么时候能修好", "这个月账单怎么算的", "退款多久到账",
    "能导出excel吗", "手机端能用吗", "支持单点登录吗", "权限怎么分配", "升级要停机吗", "新版本有什么变化",
    "这个报错是什么意思", "怎么批量导入客户", "发票抬头能改吗", "付款方式有哪些", "可以开电子发票吗",
    "能不能先试用", "账号过期了怎么办", "为啥数据对不上", "客户数据会不会泄露", "年付和月付差多少", "能分期吗",
    "需要我们提供什么资料", "上次说的方案出来了吗", "技术同学什么时候有空", "明天能上门吗", "下周的培训还照常吗",
    "接口调用有频率限制吗", "怎么开通短信功能", "审批流能自定义吗", "可以导出通话录音吗", "报表能按部门筛选吗",
    "到期会自动扣费吗", "我们的工单处理到哪一步了", "合同里的服务期从哪天开始算", "一个账号能几个人用",
    "加一个坐席多少钱", "能开增值税专用发票吗", "数据备份多久一次", "系统几点维护", "你们有等保认证吗",
    "之前的聊天记录还能查到吗", "这个按钮是干嘛的", "今天能给个答复吗", "能远程帮我们看一下吗",
    "离职员工的客户怎么转移", "标签能批量删除吗", "海外能用吗", "是按人数收费还是按功能收费",
]
QUESTION_FORMS: list[tuple[str, int, str]] = [
    ("{q}？", 0, "question"), ("{q}", 0, "question"), ("请问{q}", 0, "question"), ("{at}{q}？", 0, "question"),
    ("{ack}那{q}？", 0, "mixed_question"), ("{ack}{q}", 0, "mixed_question"), ("对了，{q}", 0, "question"),
    ("另外{q}？", 0, "question"), ("谢谢，另外想问下{q}", 0, "mixed_question"), ("{q}[疑问]", 0, "question"),
    ("{ack}还有个问题，{q}", 0, "mixed_question"), ("{q}？？", 0, "question"),
]

ASKS_WITHOUT_MARKS: list[str] = [
    "想了解下你们的价格", "想问下续费的事", "咨询一下私有化部署", "问一下发票的事", "想看看你们的演示",
    "我想申请个试用账号", "我们想了解下企业版", "想咨询下合同的事", "想约个时间聊聊方案", "有个问题想请教一下",
    "想确认下付款的账户", "关于上次的报价想再沟通下", "想问问数据迁移的事", "我这边有几个问题", "方便的时候回个电话",
    "想跟你们技术对一下接口", "看下我们的账号到期时间", "想了解下培训的安排",
]

REQUESTS: list[str] = [
    "帮忙开一下发票", "把合同发我一份", "帮我重置一下密码", "尽快安排一下", "给我们开通一下测试账号",
    "把报价单再发一遍", "帮忙加一下我同事", "看下上面的问题", "帮我查一下订单", "发一下操作手册",
    "把发票寄到公司地址", "帮我们把账号升级到企业版", "把我们的到期时间延长一下", "安排技术远程一下",
    "帮我看下这个报错", "给个报价", "把开票信息再确认一下", "拉一下技术同学进群", "把会议纪要发一下",
    "尽快回复一下", "把上个月的账单发我", "帮我把这个客户转给小李", "把这个需求提给产品", "帮忙催一下技术",
    "把接口文档发我邮箱", "帮忙把旧账号注销掉", "把培训录屏发群里", "帮忙导一份数据出来", "给我们延期一周试用",
    "把收款账户发一下", "帮我把手机号换绑一下", "安排一下明天的演示", "这个问题优先处理一下", "给个书面说明",
]
REQUEST_FORMS: list[tuple[str, int, str]] = [
    ("{r}", 0, "request"), ("麻烦{r}", 0, "request"), ("麻烦{r}，谢谢", 0, "request"), ("{ack}{r}", 0, "mixed_request"),
    ("辛苦{r}", 0, "request"), ("{r}🙏", 0, "request"), ("{at}{r}", 0, "request"), ("请{r}", 0, "request"),
    ("谢谢，麻烦再{r}", 0, "mixed_request"), ("{r}，比较急", 0, "request"), ("{at}麻烦{r}[抱拳]", 0, "request"),
    ("{r}，辛苦了", 0, "request"),
]

STATEMENTS: list[str] = [
    "我们老板想看一下演示", "下个月要新增20个账号", "我们打算换一家供应商", "我们财务说发票抬头写错了",
    "明天要给领导汇报，需要一份方案", "我们这边想把到期时间改到年底", "领导说价格太高了", "我们在对比另一家的方案",
    "客户那边在催了", "这个比较急", "我们的合同下周到期", "新来的同事还不会用", "我们想加一个分公司",
    "财务那边还没收到发票", "老板对上次的报告不太满意", "我们这边准备续费了，想谈下价格", "下午三点前要用",
    "我把问题整理在文档里了", "客户反馈说收不到消息", "今天下午系统特别慢", "我们想把数据全部导出来",
]

COMPLAINTS: list[str] = [
    "系统又打不开了", "登录一直报错", "导出的数据不全", "昨天的问题还没解决", "都等了两天了", "页面一直转圈",
    "扣款金额不对", "收不到验证码", "一直没人理我们", "数据丢了", "报表数字跟后台对不上", "群发消息发不出去",
    "同步失败了", "APP闪退", "上传文件一直失败", "又卡住了", "你们这个太慢了", "这个功能很难用", "客户投诉了",
    "发票开错了", "金额好像不对", "合同条款有问题", "账号被锁了", "提示没有权限", "打开就是500", "接口返回401",
    "打印出来是乱码", "重复扣费了", "承诺的功能还没上线", "培训时间一改再改", "说好今天给答复的", "体验很差",
    "老是掉线", "刚刚又失败了一次", "还是不行", "重启后还是卡住了", "导入的时候提示格式错误", "消息延迟很严重",
    "客户的电话号码显示不全", "昨天还好好的，今天就不行了", "升级以后好多按钮找不到了", "报价比上次高了不少",
    "发过来的合同版本不对", "短信余额扣得太快了", "手机端和电脑端数据不一样", "每次登录都要重新验证",
]
COMPLAINT_FORMS: list[tuple[str, int, str]] = [
    ("{c}", 0, "complaint"), ("{c}{neg}", 0, "complaint"), ("{at}{c}", 0, "complaint"), ("{c}！", 0, "complaint"),
    ("{ack}{but}{c}", 0, "mixed_but"), ("谢谢，但是{c}", 0, "mixed_but"), ("{ack}{but}刚才{c}", 0, "mixed_but"),
    ("收到，不过{c}", 0, "mixed_but"), ("{ack}{c}", 0, "mixed_complaint"), ("怎么回事，{c}", 0, "complaint"),
    ("{c}，麻烦看下", 0, "complaint"), ("你好，{c}", 0, "complaint"),
]

NUDGES: list[str] = [
    "在吗", "在吗？", "在不在", "有人吗", "你好", "您好", "hello", "hi", "在？", "人呢", "还在吗", "怎么没人回",
    "有人在吗", "早上好，有个问题想请教", "你好，打扰一下", "打扰了，问个问题", "亲在吗", "顾问在吗", "哈喽",
    "？", "？？", "??", "???", "。。。", "？？？", "[疑问]", "[疑问][疑问]", "还没好吗", "上面的问题麻烦看一下",
    "能先给个回复吗", "急，在线等", "等你回复", "回一下消息", "怎么不说话了", "老师在吗",
]
NUDGE_FORMS: list[tuple[str, int, str]] = [
    ("{n}", 0, "nudge"), ("{at}{n}", 0, "nudge"), ("{rep}{n}", 0, "nudge"), ("{n}{neg}", 0, "nudge"),
]

NEGATED: list[str] = [
    "不好", "不行", "不可以", "不太行", "不OK", "不对", "没用", "没效果", "还不行", "收不到", "好不了", "不是很满意",
    "不是这个意思", "不行啊，还是报错", "不对吧", "没有收到邮件", "不知道怎么弄", "搞不定", "没反应", "不能用",
    "还是老样子", "不太满意这个方案", "不同意这个价格", "不是我们要的", "看不懂",
]
NEGATED_FORMS: list[tuple[str, int, str]] = [
    ("{n}", 0, "negated"), ("{n}啊", 0, "negated"), ("{n}{neg}", 0, "negated"), ("{at}{n}", 0, "negated"),
    ("{n}。。。", 0, "negated"),
]

INFOS: list[str] = [
    "订单号：{order}", "我的账号是{phone}", "手机号{phone}", "邮箱是{email}", "{url}", "{url} 这个打不开",
    "这是报错截图[图片]", "付款截图发你了[图片]", "开票信息：{company}，税号{tax}", "{phone}", "{order}",
    "合同编号{order}，帮忙查下", "{url} 这个页面报错", "金额是{money}", "一共{money}元对吗", "工单号{order}",
    "账号ID：{uid}", "我们公司全称是{company}", "收件地址：杭州市西湖区文三路{n}号", "{money}", "要{n}个账号",
    "截图里这个数字不对[图片]", "文档在这里 {url}", "参考这个 {url}", "发票号码{order}",
]
INFO_FORMS: list[tuple[str, int, str]] = [
    ("{i}", 0, "info"), ("{ack}{i}", 0, "mixed_info"), ("{at}{i}", 0, "info"),
]

ECHOES: list[str] = ["+1", "同问", "我这边也是", "我们也遇到了同样的问题", "一样的情况", "+1，我们这边也遇到了",
                     "我也是这个问题", "同样的问题", "+1+1", "我们公司也是"]

COMPANIES = ["杭州云启科技有限公司", "上海明途信息技术有限公司", "深圳市优客网络有限公司", "北京星辰数智科技有限公司",
             "成都蓝海软件有限公司", "苏州速达供应链有限公司"]
URL_HOSTS = ["https://crm.yunqi.cn", "https://app.example.com", "http://admin.shop-demo.cn", "https://docs.example.cn",
             "https://m.saas-demo.com", "www.example.com"]
URL_PATHS = ["/report/{n}", "/share/{h}", "/order/detail?id={n}", "/api/v2/customers", "/login", "/s/{h}"]


# ----------------------------------------------------------------------------------------------------
# Variants
# ----------------------------------------------------------------------------------------------------

class Filler:
    """Placeholders filled from a generator seeded by the body, so a body always gets the same lines."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def at(self) -> str:
        return f"@{self.rng.choice(REPS)}{self.rng.choice(MENTION_SPACES)}"

    def fill(self, template: str, **fixed: str) -> str:
        r = self.rng
        values = {
            "rep": r.choice(REPS), "ack": r.choice(ACK_PREFIXES), "but": r.choice(BUTS),
            "neg": r.choice(NEGATIVE_MARKS), "n": str(r.randint(2, 300)),
            "order": str(r.randint(10**11, 10**12 - 1)),
            "phone": f"1{r.choice('35789')}{r.randint(0, 9)}{r.randint(10**7, 10**8 - 1)}",
            "email": f"{r.choice(['zhang', 'li.na', 'finance', 'it', 'wangwei'])}@{r.choice(['yunqi.cn', 'qq.com', '163.com'])}",
            "company": r.choice(COMPANIES), "tax": f"91330{r.randint(10**12, 10**13 - 1)}X",
            "money": r.choice(["3280", "12800", "4,500", "980.00", "6万8", "29800"]),
            "uid": f"u{r.randint(10**5, 10**6 - 1)}", "h": f"{r.getrandbits(32):08x}",
        }
        values["at"] = self.at()
        values["url"] = r.choice(URL_HOSTS) + r.choice(URL_PATHS).format(n=values["n"], h=values["h"])
        values.update(fixed)
        return template.format(**values)


def _pick(rng: random.Random, items: list, k: int) -> list:
    return rng.sample(items, min(k, len(items)))


def _dedup(lines: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    seen: set[str] = set()
    out = []
    for text, label, kind in lines:
        if text not in seen:
            seen.add(text)
            out.append((text, label, kind))
    return out


def ack_variants(body: tuple[str, list[str]], f: Filler) -> list[tuple[str, int, str]]:
    word, contrasts = body
    r = f.rng
    dressed = [
        (word + r.choice(ENDINGS[1:]), 1, "ack"),
        (f.at() + word, 1, "ack_mention"),
        (word + r.choice(POSITIVE_EMOJI + POSITIVE_CODES), 1, "ack_emoji"),
        (word + r.choice(POSITIVE_CODES) * r.randint(1, 3), 1, "ack_emoji"),
        (f.at() + word + r.choice(ENDINGS), 1, "ack_mention"),
    ]
    if len(word) <= 2:
        dressed.append((word * 2 + r.choice(ENDINGS), 1, "ack"))
    lines = [(word, 1, "ack"), *_pick(r, dressed, 2)]
    lines += [(c, 0, "ack_question" if "?" in c or "？" in c or "吗" in c or c.endswith(("没", "没有", "不好"))
               else "ack_contrast") for c in contrasts]
    return lines


def emoji_variants(body: str, f: Filler) -> list[tuple[str, int, str]]:
    r = f.rng
    dressed = [(body * 2, 1, "emoji"), (body * 3, 1, "emoji"), (f.at() + body, 1, "emoji"),
               (body + r.choice(POSITIVE_CODES + POSITIVE_EMOJI), 1, "emoji")]
    return [(body, 1, "emoji"), *_pick(r, dressed, 2)]


def templated(body: tuple[str, list[str]], f: Filler, kind: str, tails: list[str]) -> list[tuple[str, int, str]]:
    text, contrasts = body
    r = f.rng
    dressed = [f.fill(text + t) for t in _pick(r, tails, 3)]
    dressed.append(f.at() + f.fill(text))
    lines = [(f.fill(text), 1, kind), *[(d, 1, kind) for d in _pick(r, dressed, 2)]]
    return lines + [(f.fill(c), 0, "contrast") for c in contrasts]


def formed(body: str, f: Filler, forms: list[tuple[str, int, str]], k: int, key: str) -> list[tuple[str, int, str]]:
    first, *rest = forms
    chosen = [first, *_pick(f.rng, rest, k - 1)]
    return [(f.fill(form, **{key: body}), label, kind) for form, label, kind in chosen]


@dataclass(frozen=True)
class Family:
    name: str
    bodies: list
    variants: Callable[[object, Filler], list[tuple[str, int, str]]]

    def key(self, body: object) -> str:
        return body[0] if isinstance(body, tuple) else str(body)


WRAPUP_TAILS = ["", "～", "！", "[OK]", "👌", "[抱拳]", "，谢谢", "哈", "。", "[握手]"]
THANKS_TAILS = ["", "！", "[抱拳]", "🙏", "[玫瑰]", "～", "[强]", "👍", "！！"]

FAMILIES = [
    Family("ack", ACKS, ack_variants),
    Family("emoji", EMOJI_ONLY, emoji_variants),
    Family("thanks", THANKS, lambda b, f: templated(b, f, "thanks", THANKS_TAILS)),
    Family("resolved", RESOLVED, lambda b, f: templated(b, f, "resolved", RESOLVED_TAILS)),
    Family("wrapup", WRAPUPS, lambda b, f: templated(b, f, "wrapup", WRAPUP_TAILS)),
    Family("question", QUESTIONS, lambda b, f: formed(b, f, QUESTION_FORMS, 4, "q")),
    Family("ask", ASKS_WITHOUT_MARKS, lambda b, f: formed(b, f, REQUEST_FORMS[:1] + [
        ("{ack}{r}", 0, "mixed_request"), ("{at}{r}", 0, "request"), ("你好，{r}", 0, "request")], 2, "r")),
    Family("request", REQUESTS, lambda b, f: formed(b, f, REQUEST_FORMS, 3, "r")),
    Family("statement", STATEMENTS, lambda b, f: formed(b, f, [
        ("{s}", 0, "statement"), ("{ack}{s}", 0, "mixed_statement"), ("{at}{s}", 0, "statement"),
        ("{s}{neg}", 0, "statement"), ("对了，{s}", 0, "statement")], 3, "s")),
    Family("complaint", COMPLAINTS, lambda b, f: formed(b, f, COMPLAINT_FORMS, 3, "c")),
    Family("nudge", NUDGES, lambda b, f: formed(b, f, NUDGE_FORMS, 2, "n")),
    Family("negated", NEGATED, lambda b, f: formed(b, f, NEGATED_FORMS, 2, "n")),
    Family("info", INFOS, lambda b, f: [(f.fill(form.replace("{i}", b)), label, kind)
                                        for form, label, kind in [INFO_FORMS[0], *_pick(f.rng, INFO_FORMS[1:], 1)]]),
    Family("echo", ECHOES, lambda b, f: formed(b, f, [("{e}", 0, "echo"), ("{at}{e}", 0, "echo"),
                                                      ("{e}{neg}", 0, "echo")], 2, "e")),
]


def _stable_hash(text: str) -> str:
    return hashlib.sha256(f"{SEED}:{text}".encode()).hexdigest()


def assign_splits(groups: list[str]) -> dict[str, str]:
    """Whole groups to splits, 70/15/15 of a family's groups, in an order fixed by a hash of the group."""
    ordered = sorted(groups, key=_stable_hash)
    n = len(ordered)
    n_dev = max(1, round(n * SPLITS[1][1]))
    n_test = max(1, round(n * SPLITS[2][1]))
    cut_train = n - n_dev - n_test
    return {g: ("train" if i < cut_train else "dev" if i < cut_train + n_dev else "test")
            for i, g in enumerate(ordered)}


def build() -> list[Example]:
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for family in FAMILIES:
        keys = [family.key(b) for b in family.bodies]
        if len(set(keys)) != len(keys):
            raise ValueError(f"family {family.name} lists a body twice")
        split_of = assign_splits([f"{family.name}:{k}" for k in keys])
        for index, (body, key) in enumerate(zip(family.bodies, keys, strict=True)):
            group = f"{family.name}:{key}"
            filler = Filler(random.Random(_stable_hash(group)))
            for variant, (text, label, kind) in enumerate(_dedup(family.variants(body, filler))):
                if text in seen:  # the same line from two bodies: keep the first, never both sides of a split
                    continue
                seen[text] = group
                examples.append(Example(f"{family.name}-{index:03d}-{variant}", text, label, kind,
                                        family.name, group, split_of[group]))
    return examples


def iter_jsonl(examples: list[Example]) -> Iterator[str]:
    for e in examples:
        yield json.dumps(asdict(e), ensure_ascii=False) + "\n"


def load(path: Path = DATA, split: str | None = None) -> list[dict]:
    """The shipped set (or one split of it) as dicts: id, text, label, kind, family, group, split."""
    if not path.is_file():
        raise FileNotFoundError(f"closing data set not found at {path}; run python -m models.closing.build_dataset")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def summary(examples: list[Example]) -> str:
    by_split = Counter((e.split, e.label) for e in examples)
    parts = [f"{s}: {by_split[(s, 0)] + by_split[(s, 1)]} ({by_split[(s, 1)]} closing)" for s, _ in SPLITS]
    return f"{len(examples)} lines, {len({e.group for e in examples})} groups; " + ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument("--check", action="store_true", help="fail if the file differs from a fresh build")
    args = parser.parse_args(argv)
    examples = build()
    text = "".join(iter_jsonl(examples))
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(("up to date: " if same else "STALE: ") + str(args.out))
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {summary(examples)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

from models.closing.text import normalize

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
    ("不错", ["不怎么样"]), ("不错不错", []), ("还不错", []), ("不客气", []), ("不用谢", []),
]

_ACK_WORDS = frozenset(word for word, _ in ACKS)

EMOJI_ONLY: list[str] = [
    "👌", "👍", "🙏", "🤝", "💪", "🌹", "😊", "😄", "✌️", "👏", "❤️", "😁", "🎉", "💯",
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
    ("谢谢你们的帮助", []), ("真是太感谢了", []), ("感谢{rep}一直以来的支持", []), ("谢谢{rep}，麻烦你了", []),
    ("辛苦{rep}跑一趟", []), ("谢谢{rep}，下次请你吃饭", []), ("感谢你们团队", []), ("谢谢，你们效率很高", []),
    ("服务很专业，谢谢", []), ("今天的培训很有收获，谢谢", []), ("谢谢，讲得很详细", []), ("多亏了{rep}", []),
    ("{rep}太给力了", []), ("谢谢{rep}的耐心", []), ("感谢配合", []), ("感谢{rep}，问题解决得很快", []),
    ("好的{rep}", ["{rep}在吗"]), ("收到{rep}", []), ("好的{rep}，辛苦了", []), ("收到，谢谢老师", []),
    ("好的老师", []), ("了解了，感谢{rep}", []), ("明白了，辛苦{rep}", []), ("好的，知道了，谢谢", []),
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
    ("订单状态更新了", []), ("客户信息都导进去了", []), ("打印正常了", ["打印还是乱码"]), ("已经改过来了", []),
    ("显示正常了", []), ("消息能收到了", ["消息还是收不到"]), ("电话能打通了", []), ("现在速度快多了", []),
    ("同步正常了", []), ("录音能听了", []), ("二维码能扫了", []), ("支付成功了", ["支付失败了"]), ("续费成功了", []),
    ("开票成功了", []), ("已经签好了", []), ("盖好章了，已经寄出", []), ("审批通过了", ["审批被驳回了"]),
    ("已经上线了，效果不错", []), ("报表数字对了", []), ("新同事也能登录了", []), ("插件装好了", []),
    ("配置好了", []), ("绑定成功了", ["绑定失败"]), ("账单核对过了，没问题", []), ("培训很有帮助", []),
    ("演示效果很好，领导很满意", []), ("客户那边反馈没问题了", []), ("试了几次都正常", []), ("问题已经处理好了", []),
    ("我们自己搞定了", []), ("找到原因了，是我们网络的问题", []), ("原来是缓存的问题，清掉就好了", []),
    ("是我们这边操作错了，现在好了", []), ("不用了，已经好了", []), ("已经恢复了", ["还没恢复"]),
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
    ("好的，我先把合同走流程", []), ("好的，我明天去银行转账", []), ("收到，我发给法务看看", []),
    ("好的，等我们老板回来再定", []), ("行，那我们等新版本", []), ("好的，那下周一开始用", []),
    ("好的，回头我把需求整理一下发你", []), ("嗯嗯，我们这边先内部试一下", []), ("好的，那先不打扰你了", []),
    ("好的，今天先这样吧", []), ("好的，改天请你喝咖啡", []), ("好的，路上注意安全", []), ("好的，新年快乐", []),
    ("收到，我们这边安排人参加培训", []), ("好的，我把你推给我们IT", []), ("好的，我跟同事说一下", []),
    ("嗯，那我们再等等", []), ("可以，就按年付吧", []), ("行，那就签三年", []), ("好的，我们选企业版", []),
    ("好的，按这个报价走", []), ("OK，那就这么办", []), ("好的，我先截图保存一下", []),
    ("好的，我周三之前反馈你", []), ("嗯嗯，我下班前确认", []), ("好，我去跟财务对一下账", []),
    ("好的，已转发给相关同事", []), ("收到，已经转给技术了", []), ("好的，我已经通知客户了", []),
    ("了解，我们会注意的", []), ("明白，下次按这个流程来", []), ("好的，我们会尽快付款", []),
    ("收到，发票我们会尽快寄回", []), ("好的，这个不急", []), ("好的，那我等你电话", []), ("好的，等你们安排", []),
    ("嗯嗯，那麻烦你们了", []), ("好的，期待下次合作", []), ("好的，有进展我同步你", []), ("好的，那就先试用着", []),
    ("不需要了，谢谢", []), ("不用了，已经处理好了", []), ("不用麻烦了", []), ("没事，不用了", []),
    ("好的，那我们就不改了", []), ("好的，中午我让财务打款", []), ("收到，我晚上回去试试", []),
    ("好的，我们开会讨论完告诉你", []), ("行，先这么用着", []), ("好的，我们等正式版", []),
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
    "帮我开个管理员权限", "把续费合同发一下", "帮忙把发票重开一下", "给我们开个发票", "帮忙确认一下款到了没有",
    "把演示视频发我", "帮我们配置一下自动分配", "安排人培训一下新同事", "帮我把这个账号解锁", "把报价改成含税的",
    "帮我们出个对接方案", "帮忙申请一下折扣", "把发票改成专票", "发个收款码", "回个电话给我",
]
REQUEST_FORMS: list[tuple[str, int, str]] = [
    ("{r}", 0, "request"), ("麻烦{r}", 0, "request"), ("麻烦{r}，谢谢", 0, "request"), ("{ack}{r}", 0, "mixed_request"),
    ("辛苦{r}", 0, "request"), ("{r}🙏", 0, "request"), ("{at}{r}", 0, "request"), ("请{r}", 0, "request"),
    ("谢谢，麻烦再{r}", 0, "mixed_request"), ("{r}，比较急", 0, "request"), ("{at}麻烦{r}[抱拳]", 0, "request"),
    ("{r}，辛苦了", 0, "request"), ("{rep}，{r}", 0, "request"), ("{rep}你好，{r}", 0, "request"),
]

STATEMENTS: list[str] = [
    "我们老板想看一下演示", "下个月要新增20个账号", "我们打算换一家供应商", "我们财务说发票抬头写错了",
    "明天要给领导汇报，需要一份方案", "我们这边想把到期时间改到年底", "领导说价格太高了", "我们在对比另一家的方案",
    "客户那边在催了", "这个比较急", "我们的合同下周到期", "新来的同事还不会用", "我们想加一个分公司",
    "财务那边还没收到发票", "老板对上次的报告不太满意", "我们这边准备续费了，想谈下价格", "下午三点前要用",
    "我把问题整理在文档里了", "客户反馈说收不到消息", "今天下午系统特别慢", "我们想把数据全部导出来",
    "我们想申请发票", "领导让我问下有没有折扣", "我们这边预算只有两万", "客户要求今天必须处理好",
    "我们公司要换抬头了", "下周要做年度盘点，需要导数据", "我们的管理员离职了，账号要换人", "新同事需要开通账号",
    "我们这边有一个新需求", "我们想做一下系统对接", "我们想把服务期延长一年", "合同上的金额和报价不一致",
    "你们的竞品报价便宜一半", "我们这边网络有限制，需要加白名单", "我们IT说要先做安全评估", "我们下周要上线，时间很紧",
    "账号密码忘了", "我们想取消自动续费", "我想投诉一下", "上次说的补偿还没给", "系统里的客户信息有重复",
    "还有一个问题", "我这边还有个事", "老板让我再确认一遍", "合同我们法务提了几条修改意见",
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
    "登录页面白屏", "页面样式乱了", "客户收到了两条重复短信", "提醒功能不提醒", "搜索不到客户", "附件下载不了",
    "培训视频放不出来", "验证码过期太快", "权限设置不生效", "导出的Excel打不开", "报表加载要一分钟",
    "自动分配规则失效了", "数据莫名其妙少了一批", "账单多扣了两百", "发票金额开少了", "技术支持电话打不通",
    "工单提了三天没人处理", "弹窗关不掉", "消息推送延迟半小时", "手机收不到通知", "换了新手机登录不了",
]
COMPLAINT_FORMS: list[tuple[str, int, str]] = [
    ("{c}", 0, "complaint"), ("{c}{neg}", 0, "complaint"), ("{at}{c}", 0, "complaint"), ("{c}！", 0, "complaint"),
    ("{ack}{but}{c}", 0, "mixed_but"), ("谢谢，但是{c}", 0, "mixed_but"), ("{ack}{but}刚才{c}", 0, "mixed_but"),
    ("收到，不过{c}", 0, "mixed_but"), ("{ack}{c}", 0, "mixed_complaint"), ("怎么回事，{c}", 0, "complaint"),
    ("{c}，麻烦看下", 0, "complaint"), ("你好，{c}", 0, "complaint"), ("{rep}，{c}", 0, "complaint"),
    ("{rep}，{c}，辛苦看下", 0, "complaint"),
]

NUDGES: list[str] = [
    "在吗", "在吗？", "在不在", "有人吗", "你好", "您好", "hello", "hi", "在？", "人呢", "还在吗", "怎么没人回",
    "有人在吗", "早上好，有个问题想请教", "你好，打扰一下", "打扰了，问个问题", "亲在吗", "顾问在吗", "哈喽",
    "？", "？？", "??", "???", "。。。", "？？？", "[疑问]", "[疑问][疑问]", "还没好吗", "上面的问题麻烦看一下",
    "能先给个回复吗", "急，在线等", "等你回复", "回一下消息", "怎么不说话了", "老师在吗",
    "在忙吗", "方便说话吗", "有空吗", "在线吗", "想问下", "请教个问题", "问个事", "咨询一下", "你好，在吗？",
    "哈喽在吗", "下午好", "早上好",
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
                     "我也是这个问题", "同样的问题", "+1+1", "我们公司也是", "我们这里也出现了", "我也遇到了",
                     "我们也是这样", "同一个问题", "我这也不行", "跟楼上一样", "楼上说的我们也有", "我们也碰到了"]

# Compositional families: a state or an action is the template (and the group); the object or the time
# around it varies. Objects are shared by both labels, so the model has to read the state, not the noun.
SYSTEMS = ["报表", "客户列表", "后台", "小程序", "APP", "导出功能", "群发", "短信", "接口", "登录页面", "工单系统",
           "审批流", "数据看板", "通讯录同步", "企微对接", "自动分配", "提醒功能", "通话录音", "附件上传", "打印",
           "支付页面", "权限设置", "子账号", "标签功能", "搜索", "消息推送", "二维码", "插件", "验证码", "网页版"]
DOCUMENTS = ["发票", "合同", "报价单", "邮件", "快递", "培训录屏", "操作手册", "账单", "收据", "对账单", "方案",
             "会议纪要", "授权书", "盖章的合同", "付款通知"]
SYSTEM_STATES: list[tuple[str, int]] = [
    ("正常了", 1), ("能用了", 1), ("好了", 1), ("恢复了", 1), ("可以用了", 1), ("没问题了", 1), ("能打开了", 1),
    ("速度快多了", 1), ("跑通了", 1), ("已经好了", 1), ("测了下没问题", 1), ("恢复正常了", 1), ("好使了", 1),
    ("OK了", 1), ("弄好了", 1), ("调通了", 1), ("都正常", 1), ("用着挺顺的", 1), ("试了没问题", 1), ("设置好了", 1),
    ("打不开", 0), ("又打不开了", 0), ("报错了", 0), ("一直报错", 0), ("很慢", 0), ("卡住了", 0), ("又挂了", 0),
    ("白屏", 0), ("加载不出来", 0), ("没反应", 0), ("用不了", 0), ("出问题了", 0), ("崩了", 0), ("数据不对", 0),
    ("点了没反应", 0), ("一直转圈", 0), ("闪退", 0), ("时好时坏", 0), ("提示失败", 0), ("显示异常", 0),
    ("坏了", 0), ("不能用了", 0), ("有bug", 0), ("报404", 0), ("连不上", 0), ("失灵了", 0),
    ("通了", 1), ("修好了", 1), ("搞好了", 1), ("能正常使用了", 1), ("跑起来了", 1), ("已经修复了", 1),
    ("稳定多了", 1), ("一切正常", 1), ("重装一下就好了", 1), ("换个浏览器就好了", 1), ("升级完正常了", 1),
    ("上线了，运行正常", 1), ("自己恢复了", 1), ("能登上去了", 1), ("不卡了", 1), ("不报错了", 1),
    ("停了", 0), ("又停了", 0), ("超时了", 0), ("欠费停用了", 0), ("被封了", 0), ("登不上去了", 0),
    ("打不通了", 0), ("一直在加载", 0), ("又报错了", 0), ("点不动了", 0), ("变成乱码了", 0), ("刷新不出来", 0),
    ("比昨天还慢", 0), ("又出错了", 0), ("卡死了", 0), ("用一会就掉线", 0),
]
DOCUMENT_STATES: list[tuple[str, int]] = [
    ("收到了", 1), ("看到了", 1), ("核对过了，没问题", 1), ("已经签好了", 1), ("确认过了", 1), ("都收到了", 1),
    ("拿到了", 1), ("已经存档了", 1), ("已经转给财务了", 1), ("我们看过了，没意见", 1), ("已经寄回去了", 1),
    ("还没收到", 0), ("找不到", 0), ("不对", 0), ("有问题", 0), ("开错了", 0), ("金额不对", 0), ("少了一份", 0),
    ("抬头写错了", 0), ("打不开", 0), ("收到两份重复的", 0), ("过期了", 0), ("没盖章", 0), ("丢了", 0),
    ("内容有出入", 0), ("版本不是最新的", 0),
    ("已经收好了", 1), ("核对无误", 1), ("已经发给老板了", 1), ("签完寄出了", 1), ("打印出来了", 1),
    ("已经归档了", 1), ("都齐了", 1), ("没问题，已经签字", 1),
    ("被退回来了", 0), ("少了一页", 0), ("写错了日期", 0), ("章盖歪了", 0), ("金额多了一个零", 0),
    ("到现在还没到", 0), ("数字对不上", 0), ("寄错地址了", 0),
]
STATE_PREFIXES = {1: ["", "现在", "刚试了下，", "刚看了，", "嗯，", "{rep}，"],
                  0: ["", "你好，", "今天", "刚才", "我们的", "{rep}，", "{rep}你好，"]}
STATE_TAILS = {1: ["", "，谢谢", "，辛苦了", "[强]", "👍", "，感谢", "～", "[OK]", "，没事了", "[抱拳]"],
               0: ["", "，麻烦看下", "[流泪]", "！", "[发怒]", "，急", "，帮忙处理下", "。。。", "[裂开]"]}

# (what the customer will do, what the customer asks the rep to do): the first closes, the second does not.
ACTIONS: list[tuple[str, str | None]] = [
    ("看一下", "看一下"), ("试一下", "试一下"), ("处理一下", "处理一下"), ("确认一下", "确认一下"), ("测一下", "测一下"),
    ("回复你", "回复我"), ("转给财务", None), ("跟老板汇报一下", None), ("跟团队商量下", None), ("安排付款", None),
    ("把资料发你", "把资料发我"), ("把表填好发你", "把表填好发我"), ("去盖章", None), ("通知同事", None),
    ("研究一下", "研究一下"), ("整理下需求发你", "整理下方案发我"), ("提交审批", None), ("走采购流程", None),
    ("把合同寄出", "把合同寄过来"), ("去后台改一下", "帮我们后台改一下"), ("重新登录试试", None),
    ("清下缓存试试", None), ("跟IT说一下", None), ("转账", None), ("把开票信息发你邮箱", "把发票发我邮箱"),
    ("问下领导意见", None), ("上传一下资料", None), ("联系你们技术", "让技术联系我"), ("核对一下账单", "核对一下账单"),
    ("给你打电话", "给我打个电话"), ("把问题截图发你", "截个图发我"), ("过一遍合同", "帮我们过一遍合同"),
    ("下单", None), ("续费", "帮我们续费"), ("更新一下版本", "更新一下版本"), ("把同事拉进群", "把技术拉进群"),
    ("刷新一下试试", "刷新一下后台"), ("整理一下发群里", "整理一下发群里"), ("填一下问卷", None),
    ("安排同事参加培训", "安排培训"), ("申请一下预算", None), ("走一下内部审批", None), ("去开发票", "开发票"),
    ("把对账单签回给你", "把对账单发过来"), ("问问其他同事", "问问你们领导"), ("在测试环境试试", "在测试环境配一下"),
    ("通知财务付款", "通知财务开票"), ("修改一下配置", "修改一下配置"), ("重新导一遍", "重新导一遍"),
    ("把账号信息发你", "把账号信息发我"), ("约一下老板的时间", "约一下你们技术的时间"),
]
WHO = ["我", "我们", "我这边", "我们这边", "那我", "那我们"]
WHEN = ["下午", "明天", "晚点", "回头", "等下", "周一", "今天", "稍后", "", "马上", "晚上", "这周内"]
YOU = ["你", "你们", "你们技术", "你那边", "你们这边"]
POLITE = ["麻烦", "辛苦", "请", "", "能不能"]

# Verdicts on the product: praise needs no answer, a grievance does ("系统很稳定" / "系统很不稳定").
SUBJECTS = ["你们的服务", "这个功能", "新版本", "系统", "界面", "培训", "方案", "报表", "APP", "客服", "后台", "操作",
            "整体体验", "这个设计", "你们的技术"]
DEGREES = ["真", "很", "挺", "非常", "特别", "还挺", "确实", "越来越"]
VERDICTS: list[tuple[str, int]] = [
    ("不错", 1), ("好用", 1), ("方便", 1), ("清楚", 1), ("专业", 1), ("流畅", 1), ("稳定", 1), ("贴心", 1),
    ("给力", 1), ("实用", 1), ("靠谱", 1), ("顺手", 1), ("省事", 1), ("到位", 1), ("高效", 1),
    ("难用", 0), ("卡", 0), ("慢", 0), ("麻烦", 0), ("复杂", 0), ("不稳定", 0), ("乱", 0), ("差劲", 0), ("别扭", 0),
    ("不好用", 0), ("不方便", 0), ("不专业", 0), ("让人失望", 0), ("不靠谱", 0), ("容易出错", 0), ("费劲", 0),
    ("人性化", 1), ("细致", 1), ("周到", 1), ("简单易用", 1), ("好上手", 1), ("漂亮", 1), ("及时", 1), ("有耐心", 1),
    ("拖沓", 0), ("难上手", 0), ("糟糕", 0), ("不及时", 0), ("敷衍", 0), ("不稳", 0), ("粗糙", 0), ("让人头疼", 0),
]
VERDICT_TAILS = {1: ["", "，谢谢", "[强]", "👍", "！", "，点赞", "[鼓掌]", "，辛苦你们了"],
                 0: ["", "，怎么回事", "[发怒]", "！", "，能改进下吗", "[撇嘴]", "，要反馈一下", "。。。"]}

# Goodbyes and wishes close a conversation; greetings open one.
WISHES = ["路上注意安全", "周末愉快", "早点休息", "新年快乐", "合作愉快", "祝顺利", "下次见", "拜拜", "再见",
          "回头见", "晚安", "中秋快乐", "节日快乐", "国庆快乐", "身体健康", "生意兴隆", "工作顺利", "改天聊",
          "先这样", "回聊", "辛苦一天了", "下班愉快", "万事如意", "事事顺心", "大吉大利", "元旦快乐", "一路顺风",
          "祝好", "改天见", "下周见"]
GREETINGS = ["你好", "您好", "打扰一下", "早上好", "下午好", "晚上好", "在忙吗", "有空吗", "请教一下", "方便吗",
             "打扰了", "哈喽", "嗨", "麻烦问一下", "冒昧问一下", "想请教个事"]

# Facts with a deadline in them want an answer: a renewal, an expiry, a launch.
DEADLINE_SUBJECTS = ["我们的合同", "账号", "试用", "服务", "短信套餐", "坐席", "发票额度", "会员", "授权"]
DEADLINES = ["下周到期", "月底到期", "明天就结束了", "快用完了", "已经过期了", "这周五到期", "还剩三天", "今天到期",
             "下个月到期", "马上就到期了", "昨天过期了", "只剩最后一天", "到期了", "已经停了", "余额不足了",
             "用完了", "被暂停了", "过期两天了"]

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
    if len(word) <= 2 and word * 2 not in _ACK_WORDS:  # "收到收到" is a body of its own
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


def state_variants(body: tuple[str, int], f: Filler, objects: list[str]) -> list[tuple[str, int, str]]:
    state, label = body
    r = f.rng
    kind = "resolved" if label else "complaint"
    a, b, c = _pick(r, objects, 3)
    lines = [(a + state, label, kind),
             (f.fill(r.choice(STATE_PREFIXES[label])) + b + state + r.choice(STATE_TAILS[label]), label, kind),
             (f.at() + c + state + r.choice(STATE_TAILS[label]), label, kind)]
    return lines[:1] + _pick(r, lines[1:], 1 + r.randint(0, 1))


def action_variants(body: tuple[str, str | None], f: Filler) -> list[tuple[str, int, str]]:
    mine, yours = body
    r = f.rng
    lines = [(r.choice(ACK_PREFIXES) + r.choice(WHO) + r.choice(WHEN) + mine, 1, "wrapup"),
             (r.choice(ACK_PREFIXES) + r.choice(WHO) + r.choice(WHEN) + mine + r.choice(WRAPUP_TAILS), 1, "wrapup")]
    if yours:
        you = r.choice(YOU) + r.choice(WHEN) + yours
        polite = r.choice(POLITE)
        lines.append((polite + you + ("吗" if polite == "能不能" and r.random() < 0.5 else ""), 0, "request"))
        lines.append((r.choice(ACK_PREFIXES) + r.choice(POLITE[:3]) + r.choice(YOU) + r.choice(WHEN) + yours,
                      0, "mixed_request"))
    return lines


def verdict_variants(body: tuple[str, int], f: Filler) -> list[tuple[str, int, str]]:
    verdict, label = body
    r = f.rng
    kind = "praise" if label else "complaint"
    subjects = _pick(r, SUBJECTS, 3)
    lines = [(subjects[0] + r.choice(DEGREES) + verdict, label, kind),
             (subjects[1] + r.choice(DEGREES) + verdict + r.choice(VERDICT_TAILS[label]), label, kind),
             (r.choice(ACK_PREFIXES) + subjects[2] + r.choice(DEGREES) + verdict, label, f"mixed_{kind}")]
    return lines[:1] + _pick(r, lines[1:], 1)


def wish_variants(body: str, f: Filler) -> list[tuple[str, int, str]]:
    r = f.rng
    lines = [(body, 1, "wish"), (r.choice(ACK_PREFIXES) + body + r.choice(["", "～", "！", "[抱拳]", "[玫瑰]"]), 1, "wish"),
             (f.at() + body, 1, "wish"), (f.fill("谢谢{rep}，") + body, 1, "wish")]
    return lines[:1] + _pick(r, lines[1:], 2)


def greeting_variants(body: str, f: Filler) -> list[tuple[str, int, str]]:
    r = f.rng
    lines = [(body, 0, "nudge"), (f.fill("{rep}") + body, 0, "nudge"), (body + f.fill("{rep}"), 0, "nudge"),
             (f.at() + body, 0, "nudge"), (body + "，" + r.choice(["有个问题", "想问个事", "有件事", "问一下"]), 0, "nudge")]
    return lines[:1] + _pick(r, lines[1:], 2)


def deadline_variants(body: str, f: Filler) -> list[tuple[str, int, str]]:
    r = f.rng
    a, b, c = _pick(r, DEADLINE_SUBJECTS, 3)
    lines = [(a + body, 0, "statement"), (r.choice(ACK_PREFIXES) + b + body, 0, "mixed_statement"),
             (f.at() + c + body + r.choice(["", "，麻烦看下", "，怎么续", "。"]), 0, "statement")]
    return lines[:1] + _pick(r, lines[1:], 1)


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
    Family("system_state", SYSTEM_STATES, lambda b, f: state_variants(b, f, SYSTEMS)),
    Family("document_state", DOCUMENT_STATES, lambda b, f: state_variants(b, f, DOCUMENTS)),
    Family("action", ACTIONS, action_variants),
    Family("verdict", VERDICTS, verdict_variants),
    Family("wish", WISHES, wish_variants),
    Family("greeting", GREETINGS, greeting_variants),
    Family("deadline", DEADLINES, deadline_variants),
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
                key = normalize(text)  # 🙏 and 🙏🏻, ＯＫ and OK are one line
                if key in seen:  # the same line from two bodies: keep the first, never both sides of a split
                    continue
                seen[key] = group
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
    checked = write_or_check(args.out, "".join(iter_jsonl(examples)), args.check)
    if checked is not None:
        return checked
    print(f"wrote {args.out}: {summary(examples)}")
    return 0


def write_or_check(out: Path, text: str, check: bool) -> int | None:
    """With `check`, an exit code saying whether `out` already holds `text`; otherwise write it (None)."""
    if check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(("up to date: " if same else "STALE: ") + str(out))
        return 0 if same else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return None


if __name__ == "__main__":
    sys.exit(main())

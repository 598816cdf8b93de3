#!/usr/bin/env python3
"""Generate the bundled demo day that `sales-assistant demo` replays.

    python config/demo/generate.py

rewrites `roster.json` and `messages.jsonl` next to this file. The output depends only on this script:
one `random.Random(20261120)`, no wall clock, no environment, so two runs write byte-identical files.

The day is Friday 2026-11-20, 09:00-21:30 Asia/Shanghai, in the WeCom service groups of 句子互动
(a Chinese SaaS vendor) and its enterprise customers. Each room is simulated on its own, one
conversation after another (question -> waiting, follow-ups -> staff reply -> closing or a new
question), with a per-room reply profile (fast, normal, slow); a few scripted scenes add the cases a
demo has to show: a cancelled clock, a closing reply hours after the answer, a room left waiting past
two hours at the end of the day, unassigned rooms and a room without an owner. Then every room's
events are merged into one stream sorted by time, with message ids handed out in that order.

Standard library only, so it runs without the project installed.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261120
HERE = Path(__file__).resolve().parent
TZ = timezone(timedelta(hours=8))  # Asia/Shanghai has no DST; a fixed offset keeps tzdata out of it
MIN = 60_000
SEC = 1_000

TEXT, IMAGE, EMOTICON = 7, 6, 5


def clock(h: int, m: int = 0, s: int = 0) -> int:
    """Epoch ms of a wall-clock time on the demo day."""
    return int(datetime(2026, 11, 20, h, m, s, tzinfo=TZ).timestamp() * 1000)


DAY_START = clock(9, 0)
DAY_END = clock(21, 30)  # nothing at or after this moment
LAST_THREAD = clock(20, 50)  # no ordinary conversation starts later than this
PACE = 0.85  # scales every room's gap between conversations: the day's size (~1,700 messages)


# --- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # sales | after_sales | employee | bot | customer
    team: str = ""

    @property
    def staff(self) -> bool:
        return self.role != "customer"


STAFF = [
    Person("1688850239241451", "董森", "sales", "销售一部"),
    Person("1688850792144270", "宋宗强", "sales", "销售一部"),
    Person("1688853876520913", "曾路", "sales", "销售二部"),
    Person("1688851906732418", "荣生", "after_sales", "客户成功部"),
    Person("1688852461098375", "许晴", "after_sales", "客户成功部"),
    Person("1688851335121940", "李佳芮", "employee", "管理层"),
    Person("1688854120687352", "尹伯昊", "employee", "技术支持部"),
    Person("1688855907314426", "句子情报员", "bot", "系统"),
]
S = {p.name: p for p in STAFF}
EMPLOYEES = [S["李佳芮"], S["尹伯昊"]]
BOT = S["句子情报员"]


@dataclass
class RoomSpec:
    topic: str
    owner: str | None  # staff name; None: listed with "owner": null
    stage: str
    profile: str  # fast | normal | slow
    activity: float  # mean minutes between conversations
    listed: bool = True  # False: appears in the messages only (an unassigned room)
    window: tuple[int, int] = (DAY_START, LAST_THREAD)
    helpers: tuple[str, ...] = ()  # who else answers here (besides the employees)
    help_rate: float = 0.12  # share of answers given by someone other than the owner
    script: str = ""  # a scripted scene, see RoomSim.scene_*
    silent: bool = False  # on the roster but quiet today


ROOMS = [
    # 董森: fast (the seed's 1.22 min average), pre-sales
    RoomSpec("句子互动服务群-网易严选", "董森", "pre_sales", "fast", 26, script="late_closing"),
    RoomSpec("句子互动服务群-流利说", "董森", "pre_sales", "fast", 22),
    RoomSpec("句子互动服务群-曹操出行", "董森", "pre_sales", "fast", 34, script="cancel"),
    RoomSpec("句子互动服务群-碧橙", "董森", "pre_sales", "fast", 80, window=(clock(13, 30), LAST_THREAD)),
    RoomSpec("句子互动&上海谨务汽车技术", "董森", "pre_sales", "normal", 55),
    RoomSpec("句子互动服务群-三诺健康", "董森", "pre_sales", "fast", 120, silent=True),
    RoomSpec("句子互动&完美日记", "董森", "pre_sales", "fast", 42),
    # 宋宗强: slow (the seed's 19-35 min averages), pre-sales
    RoomSpec("句子互动服务群-泡泡玛特", "宋宗强", "pre_sales", "slow", 30, help_rate=0.25, script="boss_nudge"),
    RoomSpec("句子互动&诺亚财富", "宋宗强", "pre_sales", "slow", 24, help_rate=0.28),
    RoomSpec("句子互动服务群-麻雀小样", "宋宗强", "pre_sales", "slow", 60, script="abandoned"),
    RoomSpec("句子互动-功夫豆", "宋宗强", "pre_sales", "normal", 70),
    RoomSpec("句子互动服务群-博时基金", "宋宗强", "pre_sales", "normal", 95),
    RoomSpec("句子互动&安徽节点信息", "宋宗强", "pre_sales", "normal", 40),
    RoomSpec("句子互动服务群-福州君明", "宋宗强", "pre_sales", "fast", 65),
    RoomSpec("句子互动服务群-格格", "宋宗强", "pre_sales", "normal", 120, silent=True),
    # 曾路: new rep, few rooms
    RoomSpec("句子互动服务群-元气森林", "曾路", "pre_sales", "normal", 50),
    RoomSpec("句子互动&叮咚买菜", "曾路", "pre_sales", "normal", 75, window=(clock(10, 30), clock(18, 30))),
    RoomSpec("句子互动服务群-瑞幸咖啡", "曾路", "pre_sales", "fast", 85),
    # 荣生: after-sales, very busy, fast
    RoomSpec("句子互动服务群-衣恋", "荣生", "after_sales", "fast", 20, helpers=("许晴",)),
    RoomSpec("句子互动服务群-好未来", "荣生", "after_sales", "fast", 18, helpers=("许晴",)),
    RoomSpec("句子互动服务群-名创优品", "荣生", "after_sales", "fast", 30, helpers=("许晴",)),
    RoomSpec("句子互动服务群-猿辅导", "荣生", "after_sales", "normal", 28, helpers=("许晴",)),
    RoomSpec("句子互动服务群-小鹅通", "荣生", "after_sales", "fast", 45, helpers=("许晴", "董森"),
             help_rate=0.2),  # handed over from 董森 last week; he still answers now and then
    RoomSpec("句子互动服务群-三只松鼠", "荣生", "after_sales", "fast", 40, helpers=("许晴",)),
    # 许晴: after-sales, normal, one slow room
    RoomSpec("句子互动服务群-薇诺娜", "许晴", "after_sales", "normal", 32, helpers=("荣生",)),
    RoomSpec("句子互动服务群-林清轩", "许晴", "after_sales", "slow", 38, helpers=("荣生",), help_rate=0.18),
    RoomSpec("句子互动服务群-百果园", "许晴", "after_sales", "normal", 45, helpers=("荣生",)),
    RoomSpec("句子互动服务群-得物", "许晴", "after_sales", "fast", 36, helpers=("荣生",)),
    RoomSpec("句子互动服务群-蔚来汽车", "许晴", "after_sales", "normal", 60, helpers=("荣生",)),
    # listed, but nobody owns it yet
    RoomSpec("句子互动&奈雪的茶", None, "pre_sales", "normal", 55, helpers=("宋宗强", "曾路"), help_rate=1.0),
    # not on the roster at all: created yesterday, never assigned
    RoomSpec("句子互动&钟薛高-试用沟通群", None, "pre_sales", "normal", 70, listed=False,
             helpers=("董森",), help_rate=1.0, window=(clock(10, 0), clock(19, 0))),
    RoomSpec("句子互动-百草味对接群", None, "after_sales", "normal", 90, listed=False,
             helpers=("荣生", "尹伯昊"), help_rate=1.0, window=(clock(11, 0), clock(20, 0))),
]

# Reply delays in minutes: (share, (low, high)). The ladder fires at 5, 10, 20, 30, 40, then every 10.
PROFILES = {
    "fast": [(0.80, (0.3, 4.0)), (0.15, (4.0, 9.0)), (0.05, (9.0, 15.0))],
    "normal": [(0.56, (0.5, 4.0)), (0.32, (6.0, 15.0)), (0.12, (15.0, 24.0))],
    "slow": [(0.28, (1.0, 5.0)), (0.20, (6.0, 15.0)), (0.52, (25.0, 70.0))],
}

# --- words ----------------------------------------------------------------------------------------

CUSTOMER_NAMES = """
小圆圆 1995. 阿媛 ggoba TOWxx 童话 徐伟 Bency EAC 我不看月亮 赵康 闫小娟 Cindy 张婷婷 Leo 王磊 橙子 阿木
刘洋 Vivian 周周 陈晨 Jason 李想 一只小羊 大鹏 晴天 Amy 孙杰 木木 黄小琳 Kevin_Wu 何佳 桃子 Rachel 马骁
郑爽爽 小鱼 老周 许诺 唐糖 范特西 Echo 吴彦 蒋晓 米粒 冯程 Sunny 杨帆 猫小姐 Tony 葛优躺 林子 苏苏 Grace
夏天 丁一 胖虎 Lily 石头 陶然 阿飞 程序员小王 Mia 小蔡 宋佳 Elaine 白开水 韩冰 叶子 Peter 欧阳娜娜 阿杰
运营-小七 客服主管Ada 市场部-琳琳 IT-老张 财务-王姐 采购-刘工 产品-小明 技术-阿伟 HR-Joyce 张总 陈总 李经理
王晓东 刘畅 Nancy 小熊 周杰 阿珍 Mandy 赵一鸣 青青 老K 罗宇 Zoe 钱多多 Iris 曹颖 大橙子 Frank 梁静 小强 方圆
Helen 洪涛 安琪 Ryan 邓超凡 西瓜 Tina 蔡明 小六 胡胡 David 常乐 Ivy 谢谢侬 沈浩 Cathy 阿秀 秦川 Luna 小满
""".split()

ACCOUNTS = ["菲菲", "小美", "客服01", "客服02", "小严", "官方福利官", "店长Lucy", "顾问-小林"]

# Topics: (question -> fitting answers, extra details a customer adds, extra lines a staff adds).
PRE_SALES_TOPICS = {
    "价格": (
        [("你们企业版现在一年多少钱？我们大概 {n} 个客服账号",
          ["按 {n} 个席位算，企业版年付是 {price} 元，我这边可以申请到九折，报价单稍后发您邮箱哈"]),
         ("麻烦发一下最新的报价单，我们下周要过预算", ["报价单已经发到您邮箱了，年付比月付大概省两个月的费用"]),
         ("{n} 个席位的话有没有优惠？年付和月付差多少",
          ["{n} 个席位可以按九折走，年付比月付大概省两个月的费用，报价单我发您邮箱"]),
         ("之前说的那个价格能不能再申请一下折扣？老板觉得有点贵",
          ["折扣我这边已经提交申请了，今天下班前给您答复", "我跟领导申请到了八八折，这是今年能给到的最低了"]),
         ("私有化部署大概什么价位？",
          ["私有化的话要看部署规模，一般起步在 20 万左右，我约下我们售前工程师跟您细聊下？"])],
        ["我们主要是做私域社群运营的", "今年预算比较紧，所以想先了解下", "领导让今天下班前给个数"],
        ["有任何问题随时找我哈", "报价有效期到本月底"],
    ),
    "合同": (
        [("合同我们法务看过了，有几条要改一下，发给谁？", ["直接发我就行，我转给我们法务，一般两个工作日内回复"]),
         ("合同盖章版什么时候能寄出来？", ["盖章版今天已经寄出了，顺丰单号 SF{sf}，明后天能到"]),
         ("付款方式能不能改成分两期？", ["分两期可以的，首付 60%，开通后一个月内付尾款，我改一下合同再发您"]),
         ("合同里的服务期是从签约开始算还是从开通账号开始算？", ["从账号开通当天开始算哈，合同第三条有写"])],
        ["我们这边月底要走完流程", "法务那边比较严，麻烦尽快"],
        ["修改版我标红了，方便您核对"],
    ),
    "功能": (
        [("你们支持企业微信和个人微信同时接入吗？", ["支持的，企业微信和个人号可以在同一个后台里管理"]),
         ("能不能演示一下自动回复和关键词拉群？", ["可以的，您看明天下午三点方便吗？我拉个腾讯会议给您演示"]),
         ("有没有 SOP 推送的功能？我们想按客户标签自动发", ["有的，在【营销工具-SOP】里面，可以按标签和入群时间自动推送"]),
         ("你们的聊天记录存档是存在哪里的？数据安全怎么保证",
          ["数据存在腾讯云上海节点，传输和存储都是加密的，我们也过了等保三级，资料我发您一份"]),
         ("能接我们自己的 CRM 吗？我们用的是销售易", ["可以对接的，我们有开放 API，也有现成的销售易连接器"]),
         ("聊天对话框中，图片放大查看后，弹框如何消失？", ["右上角有个小×进行关闭哈"])],
        ["我们 IT 比较关心这个", "竞品那边说他们可以做到"],
        ["帮助中心也有图文说明：https://help.juzibot.com"],
    ),
    "试用": (
        [("试用账号能再延长一周吗？我们还没测完", ["可以的，我已经把试用期延长到 11 月 27 日了"]),
         ("测试计划我们定了，12 月 8 日需要 {n} 个账号参与测试，账号能帮忙协调开放一下么？",
          ["没问题，账号我今天开好，晚点把登录方式发群里"]),
         ("试用版能拉多少个群？", ["试用版最多 50 个群，正式版不限"]),
         ("试用账号登录提示没有权限", ["我看了下是管理员还没给您分配角色，已经帮您加上了，重新登录下就行"])],
        ["另外我们还在协调培训时间", "业务部门想多几个人一起试"],
        ["试用期间有问题直接在群里说就好"],
    ),
    "会议": (
        [("我们老板想下周跟你们碰一下，周二还是周三方便？", ["周三下午可以，我这边拉上我们 CEO 一起"]),
         ("上次会议纪要能发一下吗？", ["纪要已经发群文件了，您看下有没有遗漏"]),
         ("下周的演示能改到线上吗？", ["可以的，我改成腾讯会议，链接稍后发群里"])],
        ["最好是下午", "我们这边会有 3 个人参加"],
        [],
    ),
}

AFTER_SALES_TOPICS = {
    "账号": (
        [("为啥{acct}这个账号群发会卡住",
          ["其实{acct}的就卡住了一次，导致后面的群发也都进行不下去的[捂脸] 现阶段，直接重启下账号就可以发出去哈"]),
         ("{acct}的账号掉线了，扫码也登不上", ["我看了下是企微那边风控了，先别频繁扫码，过半小时再试一次"]),
         ("账号一直显示登录中，转圈圈", ["后台已经帮您重启了，您刷新看下"]),
         ("托管的账号今天早上突然都离线了", ["我们这边排查到是服务器节点的问题，已经切换了，现在应该恢复了"])],
        ["已经试过重新扫码了", "其他账号是正常的"],
        ["如果还有问题直接 @ 我"],
    ),
    "群发": (
        [("群发失败了，提示发送频率过高", ["企微对单个账号每天群发有次数限制，建议分两个账号发"]),
         ("昨天定时的群发今天早上没发出去", ["定时任务看了下是审批没通过，需要管理员在企微后台确认一下"]),
         ("群发显示成功了但是客户那边没收到", ["查了日志，是客户那边把账号设成了免打扰，消息其实已经送达了"]),
         ("群发给 {n} 个群，只发出去一半", ["剩下的群是因为账号不在群里了，需要重新拉账号进群"])],
        ["今天中午有活动要发", "运营同事在等"],
        ["我把操作截图发您"],
    ),
    "接口": (
        [("调用发送消息接口返回 40001，token 是新生成的",
          ["40001 一般是 token 跟 appid 对不上，您确认下是不是用了测试环境的 token"]),
         ("回调地址收不到消息了，从昨晚十点开始", ["我们查了下是回调那台机器证书过期了，已经更新，麻烦再看下"]),
         ("API 文档里的 roomId 是哪个字段？", ["roomId 就是群的 id，在 room-list 接口返回的 id 字段里"]),
         ("接口一直超时，timeout 30s", ["我们这边已经扩容了，接口应该恢复正常了，您再试下"])],
        ["我们这边日志里 requestId 是 {sf}", "测试环境是好的，生产环境不行"],
        ["文档这块我们也会补充一下"],
    ),
    "发票": (
        [("发票开了吗？财务在催", ["电子发票已经发到您预留的邮箱了"]),
         ("发票抬头写错了，能重开吗", ["可以重开的，把正确的抬头和税号发我下"]),
         ("需要开专票，资料发给谁？", ["发我就行，我转给财务，三个工作日内开出"]),
         ("上个月的发票还没收到", ["查了下是寄到了前台，快递单号 SF{sf}"])],
        ["这周要报销", "税号我私聊发您"],
        [],
    ),
    "退款": (
        [("我们多买了 {n} 个席位，能退吗？", ["可以的，按剩余服务期折算退款，我让财务算一下金额发您"]),
         ("退款申请提交一周了，什么时候到账？", ["财务那边已经打款了，一般 3-5 个工作日到账"])],
        ["之前跟销售说好的"],
        [],
    ),
    "投诉": (
        [("你们这个服务太慢了，问题反馈三天了还没解决",
          ["非常抱歉给您带来困扰，我这边已经升级给技术负责人了，今天下班前给您一个明确的结论",
           "实在抱歉，我们内部复盘了，这次是我们响应不及时，后面我每天同步进度"]),
         ("上次说今天修好，现在还是不行，能不能给个准话", ["抱歉抱歉，这个问题我们研发在加急处理，预计今晚发版修复"]),
         ("客户已经投诉到我们这来了，你们能不能重视一下",
          ["非常抱歉，我这边已经升级给技术负责人了，今天下班前给您一个明确的结论"])],
        ["我们老板很不满意", "再这样我们要考虑换供应商了"],
        ["辛苦您这边先安抚下客户"],
    ),
    "着急": (
        [("急！！所有账号都发不出消息了", ["收到，已经拉技术同学在看了，是消息队列堵了，现在已经恢复"]),
         ("线上活动马上开始了，拉群功能用不了，麻烦快点看下", ["拉群是企微接口限流了，我们先帮您切到备用通道，现在可以了"]),
         ("老板在问，今天能不能搞定？", ["今天可以的，预计下午四点前上线"])],
        ["10 分钟后直播就开始了", "在线等"],
        [],
    ),
    "培训": (
        [("新来的同事想约一次后台培训，下周可以吗？", ["可以的，下周四下午两点线上培训，我发会议链接"]),
         ("有没有操作手册？", ["操作手册在帮助中心，链接：https://help.juzibot.com"])],
        ["大概 5 个人"],
        [],
    ),
    "续费": (
        [("下个月到期了，续费流程是怎样的？", ["我这边发您续费合同，签完打款就行，不影响使用"]),
         ("续费能不能还按去年的价格？", ["老客户续费可以按去年价格，月底前签还有八五折"])],
        ["今年可能还要加 {n} 个账号"],
        [],
    ),
    "数据": (
        [("聊天记录能导出成 Excel 吗？", ["可以的，在【数据中心-聊天记录】右上角有导出"]),
         ("数据看板的客户数和企微后台对不上", ["看板是按去重后的客户算的，企微后台没去重，所以会多一些"]),
         ("离职员工的客户怎么转给别人？", ["在【客户管理-离职继承】里选接替的同事就行"]),
         ("怎么给新同事开子账号？", ["在【设置-成员管理】里点添加成员就可以"])],
        ["差了大概 {n} 个"],
        [],
    ),
}

# Follow-up questions after an answer: (question, fitting answers, the topics or words of the first
# question they follow).
FOLLOWUPS = [
    ("那大概多久能好？", ["今天下班前可以", "大概半小时内，好了我在群里同步"], {"账号", "群发", "接口", "投诉", "着急"}),
    ("那我们这边需要做什么？", ["您这边不用做什么，我们处理完会通知您", "需要管理员在企微后台确认一下授权"],
     {"账号", "群发", "接口", "试用"}),
    ("这个要重启所有账号吗？", ["不用全部重启，只重启卡住的那个就行"], {"卡住", "转圈"}),
    ("那之前没发出去的还会补发吗？", ["会的，恢复后会自动补发", "不会自动补发，需要重新创建一下任务"],
     {"频率过高", "定时", "只发出去一半", "发不出消息"}),
    ("能不能远程帮我们看一下？", ["可以的，我发您腾讯会议号，共享下屏幕"], {"账号", "接口", "群发"}),
    ("还有个问题，子账号的权限怎么设置？", ["在【设置-角色权限】里可以按模块勾选"], {"功能", "试用", "数据"}),
    ("这个功能是所有版本都有吗？", ["专业版和企业版有，基础版没有"], {"功能"}),
    ("那数据会丢吗？", ["不会的，数据都在云端，重启不影响"], {"卡住", "转圈", "离线"}),
    ("下周上线的话我们这边要配合测试吗？", ["需要的，麻烦您安排一位同事周一跟我们对一下"], {"接口", "试用", "功能"}),
    ("那合同大概什么时候能签？", ["这周内我把合同发您，下周一就能签"], {"价格", "付款方式", "法务看过"}),
    ("报价里包含培训吗？", ["包含的，首年送两次线上培训"], {"价格"}),
    ("会议链接发一下？", ["链接已经发群里了：https://meeting.tencent.com/dm/{n4}"], {"周二还是周三", "改到线上"}),
    ("那钱什么时候能退回来？", ["财务算好金额后一周内原路退回"], {"多买了"}),
    ("电子发票和纸质的可以同时开吗？", ["可以的，电子版先发您邮箱，纸质版随后寄出"], {"发票"}),
    ("那培训有录屏吗？", ["有的，培训结束后录屏会发到群文件"], {"培训"}),
    ("加账号的话价格怎么算？", ["加的账号按剩余服务期折算，单价不变"], {"续费", "价格"}),
    ("这次能给个补偿吗？", ["我跟领导申请了一个月的免费服务期作为补偿"], {"投诉"}),
]
# A closing word that still asks something: these must start a clock.
MIXED = [
    ("好的，那价格是多少？", ["企业版年付 {price} 元，报价单我发您邮箱"], {"功能", "试用", "会议"}),
    ("收到，不过金额好像不对", ["抱歉，刚核对了下是少算了折扣，我重新发一份给您"], {"价格", "退款", "发票", "续费"}),
    ("好的，那发票什么时候能开出来？", ["这周五之前给您开出来"], {"合同", "价格", "续费"}),
    ("嗯嗯，那我们这边需要准备什么材料？", ["营业执照和开票信息就行"], {"合同", "发票"}),
    ("OK，另外子账号怎么加？", ["在【设置-成员管理】里点添加成员就可以"], {"功能", "试用", "培训", "数据"}),
    ("谢谢，不过重启后还是卡住了", ["那我远程看下，您方便把账号 ID 发我下吗", "我让技术同学直接看下后台日志"], {"账号"}),
    ("好的，那什么时候能上线？", ["预计下周二上线"], {"功能", "接口", "投诉"}),
    ("收到，但是刚刚又失败了一次", ["我看到了，是同一个原因，已经处理掉了"], {"群发", "接口", "着急"}),
]
# Pure closing replies: the keyword model knows every one of these.
CLOSINGS = ["好的", "好滴", "收到", "嗯嗯", "OK", "👌", "[OK]", "[强]", "[抱拳]", "谢谢", "辛苦了",
            "已经解决了", "好的谢谢", "收到谢谢", "好嘞", "了解了", "好的～", "谢谢！", "👍", "好的好的",
            "明白了", "可以了", "搞定了", "麻烦了", "[玫瑰]", "ok", "好哒"]
# Meant as closing, but with words the keyword list does not know: the system starts a clock.
SOFT_CLOSINGS = ["好的，我先试试", "行，那我先这样操作了", "好的，我跟老板汇报下", "嗯，我再观察一下",
                 "可以可以，那我们先按这个来", "好的，有问题我再找你们"]
SOFT_REPLIES = ["👌", "好的，有问题随时说哈", "好的，有需要随时找我", "[OK]"]
STAFF_CLOSINGS = ["有问题随时找我哈", "[抱拳]", "好的，有问题随时说～", "👌", "不客气～", "应该的[微笑]"]
HOLDS = ["稍等，我确认下哈", "收到，我看下", "在的，我看一下", "稍等，我在确认下"]
TECH_HOLDS = ["我问下技术同学，稍等", "好的，马上处理", "收到，我先查一下日志"]
TECHNICAL = {"账号", "群发", "接口", "着急", "投诉"}
# Typos reps really make (the NLP side flags these): applied now and then to a staff answer that has the word.
TYPOS = [("已经", "以经"), ("重启", "重起"), ("再试", "在试"), ("再看", "在看"), ("登录", "登陆"), ("部署", "布署"),
         ("稍后", "稍候")]
GREETINGS = ["在吗？", "@{rep} 在吗", "老师在吗", "hello，有个问题想问下"]
NUDGES = ["在吗？", "有人吗", "？", "？？", "还没好吗？", "老师在吗，上面的问题麻烦看一下",
          "这个比较急，麻烦尽快看下🙏", "能先给个回复吗", "客户那边在催了", "辛苦看下上面的问题"]
NUDGES_AT = ["@{rep} 麻烦看下", "@{rep} 在吗？", "@{rep} 辛苦看下上面的问题🙏", "@{rep} 这个有点急"]
ECHOES = ["+1，我们这边也遇到了", "同问", "我这边也是", "+1"]
ANNOUNCEMENTS = {
    "pre_sales": ["各位老师好，今天下午 4 点有一场私域运营直播，感兴趣的可以来听：https://live.juzibot.com/1120",
                  "提醒一下，本月底前签约可以享受双十二活动价哈",
                  "给大家同步下，上次提到的销售易连接器已经上线了，需要的话我帮忙开通"],
    "after_sales": ["各位老师早上好～昨天反馈的群发延迟问题已经修复，大家可以再试下",
                    "提醒一下，今晚 23:00-23:30 系统例行维护，期间消息可能延迟",
                    "新版本的 SOP 功能已经上线，操作说明发在群文件里了，有问题随时问我",
                    "给大家同步下，本周的工单都已经处理完，有遗漏的随时找我"],
}
BOT_NOTICES = [
    "【句子情报员】今日 09:30-10:30 群发功能灰度升级，期间如遇发送延迟属正常现象",
    "【句子情报员】句子秒回 v4.2 已上线：新增 SOP 按标签推送、聊天敏感词提醒，更新说明见 https://blog.juzibot.com",
    "【句子情报员】温馨提示：本周六（11 月 21 日）22:00-24:00 系统例行维护，期间消息收发可能延迟",
    "【句子情报员】双十二活动备战指南已更新，欢迎查看：https://help.juzibot.com/d12",
    "【句子情报员】本群今日问题已同步至工单系统，工单号 JZ20261120{n4}",
    "【句子情报员】欢迎新成员 {cust} 加入本群，有问题可以直接在群里提问哦～",
    "【句子情报员】本周服务满意度调查：https://wj.juzibot.com/s/{n4} ，感谢您的反馈",
]


# --- one room's day -------------------------------------------------------------------------------


@dataclass
class Event:
    ts: int
    sender: Person | None  # None for the manager's cancel order
    text: str = ""
    type: int = TEXT
    mentions: tuple[str, ...] = ()
    cancel_reason: str = ""


@dataclass
class RoomSim:
    rng: random.Random
    spec: RoomSpec
    room_id: str
    customers: list[Person]
    events: list[Event] = field(default_factory=list)
    last: int = 0
    ctx: dict = field(default_factory=dict)
    asked: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self.new_context()

    # --- who ---------------------------------------------------------------------------------

    @property
    def owner(self) -> Person | None:
        return S[self.spec.owner] if self.spec.owner else None

    @property
    def rep(self) -> Person:
        """Who customers @: the owner, or whoever answers this room most."""
        return self.owner or S[self.spec.helpers[0]]

    def customer(self, other_than: Person | None = None) -> Person:
        pool = [c for c in self.customers if c is not other_than] or self.customers
        weights = [4 if i == 0 else 2 if i == 1 else 1 for i, _ in enumerate(pool)]
        return self.rng.choices(pool, weights)[0]

    def responder(self) -> Person:
        helpers = [S[h] for h in self.spec.helpers] + [S["尹伯昊"], S["尹伯昊"], S["李佳芮"]]
        if self.owner is None:
            rooms_own = [S[h] for h in self.spec.helpers]
            return self.rng.choice(rooms_own * 4 + EMPLOYEES)
        if self.rng.random() < self.spec.help_rate:
            return self.rng.choice(helpers)
        return self.owner

    # --- how fast ------------------------------------------------------------------------------

    def delay(self, at: int) -> int:
        r, acc = self.rng.random(), 0.0
        for share, (lo, hi) in PROFILES[self.spec.profile]:  # noqa: B007 - lo, hi are read after the loop
            acc += share
            if r <= acc:
                break
        minutes = self.rng.uniform(lo, hi)
        hour = (at - clock(0)) / 3_600_000
        if 12.0 <= hour < 13.5 or hour >= 19.0:  # lunch, evening: everyone is slower
            minutes *= self.rng.uniform(1.2, 1.6)
        return int(minutes * MIN)

    # --- writing ----------------------------------------------------------------------------

    def new_context(self) -> None:
        """The numbers one conversation talks about: the answer quotes what the question said."""
        rng = self.rng
        n = rng.choice([5, 8, 10, 12, 15, 20, 30, 50])
        self.ctx = {"n": n, "acct": rng.choice(ACCOUNTS), "price": f"{n * rng.choice([1200, 1500, 1800]):,}"}

    def fill(self, text: str, cust: Person | None = None) -> str:
        rng = self.rng
        return text.format(**self.ctx, sf=rng.randrange(10**11, 10**12), rep=self.rep.name,
                           cust=(cust or self.customers[0]).name, n4=rng.randrange(1000, 10000))

    def typo(self, text: str) -> str:
        found = [(right, wrong) for right, wrong in TYPOS if right in text]
        if found and self.rng.random() < 0.12:
            right, wrong = self.rng.choice(found)
            return text.replace(right, wrong, 1)
        return text

    def post(self, at: int, sender: Person | None, text: str = "", type: int = TEXT,
             mentions: tuple[str, ...] = (), cancel_reason: str = "") -> int:
        """Append one event at `at` (whole seconds), never at or before the room's previous one."""
        at = at - at % SEC
        if at <= self.last:
            at = self.last + self.rng.randint(3, 20) * SEC
        self.events.append(Event(at, sender, text, type, mentions, cancel_reason))
        self.last = at
        return at

    def soon(self, lo_s: float, hi_s: float) -> int:
        return self.last + int(self.rng.uniform(lo_s, hi_s) * SEC)

    def ask(self, at: int, cust: Person, text: str, mention: bool = False) -> int:
        if mention:
            return self.post(at, cust, f"@{self.rep.name} {text}", mentions=(self.rep.id,))
        return self.post(at, cust, text)

    def staff_says(self, at: int, who: Person, text: str, cust: Person | None = None) -> int:
        if cust is not None and self.rng.random() < 0.22:
            return self.post(at, who, f"@{cust.name} {text}", mentions=(cust.id,))
        return self.post(at, who, text)

    # --- one wait -----------------------------------------------------------------------------

    def wait_and_answer(self, started: int, cust: Person, answers: list[str], extras: list[str],
                        holds: list[str] | None = None) -> int:
        """The customer wrote at `started`: nudges while waiting (if they asked something), then a staff
        answer, sometimes preceded by a quick "on it" from `holds`. Returns when the first staff line came."""
        rng = self.rng
        reply_at = started + self.delay(started)
        waited = (reply_at - started) / MIN
        nudges = 0
        if holds is None:  # nothing was asked: nobody nudges, nobody says "on it"
            pass
        elif waited > 20:
            nudges = rng.choice([1, 2, 2, 3])
        elif waited > 6 and rng.random() < 0.5:
            nudges = 1
        for frac in sorted(rng.uniform(0.3, 0.92) for _ in range(nudges)):
            at = started + int(frac * (reply_at - started))
            if at >= reply_at - 20 * SEC:
                continue
            r = rng.random()
            if r < 0.3:
                self.ask(at, cust, self.fill(rng.choice(NUDGES_AT)).split(" ", 1)[1], mention=True)
            elif r < 0.45 and len(self.customers) > 1:
                self.post(at, self.customer(other_than=cust), rng.choice(ECHOES))
            else:
                self.post(at, cust, rng.choice(NUDGES))
        who = self.responder()
        text = self.typo(self.fill(rng.choice(answers), cust))
        if holds and rng.random() < 0.2:  # a quick "on it" stops the clock; the real answer comes later
            replied = self.staff_says(reply_at, who, rng.choice(holds))
            self.staff_says(self.soon(90, 12 * 60), who, text, cust)
        else:
            replied = self.staff_says(reply_at, who, text, cust)
        if extras and rng.random() < 0.25:
            self.post(self.soon(15, 80), who, self.fill(rng.choice(extras), cust))
        return replied

    # --- one conversation -----------------------------------------------------------------------

    def conversation(self, at: int) -> None:
        rng = self.rng
        topics = PRE_SALES_TOPICS if self.spec.stage == "pre_sales" else AFTER_SALES_TOPICS
        self.new_context()
        for _ in range(20):  # nobody asks the same question twice in one room on one day
            topic = rng.choice(sorted(topics))
            pairs, details, extras = topics[topic]
            question, answers = rng.choice(pairs)
            if question not in self.asked:
                break
        self.asked.add(question)
        holds = HOLDS + (TECH_HOLDS if topic in TECHNICAL else [])
        cust = self.customer()
        started = None
        if rng.random() < 0.08:
            g = self.fill(rng.choice(GREETINGS))
            started = (self.ask(at, cust, g[len(self.rep.name) + 2:], mention=True) if g.startswith("@")
                       else self.post(at, cust, g))
            at = self.soon(10, 50)
        if rng.random() < 0.12:  # a screenshot first
            t = self.post(at, cust, "", IMAGE)
            started = started or t
            at = self.soon(5, 40)
        t = self.ask(at, cust, self.fill(question), mention=rng.random() < 0.18)
        started = started or t
        if rng.random() < 0.25:
            self.post(self.soon(10, 70), cust, self.fill(rng.choice(details)))
        self.wait_and_answer(started, cust, answers, extras, holds)

        for round_ in range(3):
            r = rng.random()
            later = self.soon(20, 6 * 60)
            if round_ == 2 or r < 0.42:
                if r < 0.42 or rng.random() < 0.5:
                    self.post(later, cust, rng.choice(CLOSINGS))
                    if rng.random() < 0.25:
                        if rng.random() < 0.15:
                            self.post(self.soon(10, 90), self.responder(), "[动画表情]", EMOTICON)
                        else:
                            self.post(self.soon(10, 90), self.responder(), rng.choice(STAFF_CLOSINGS))
                return
            if r < 0.68:
                fitting = [(q, a) for q, a, after in (FOLLOWUPS if r < 0.58 else MIXED)
                           if topic in after or any(word in question for word in after)]
                if not fitting:
                    self.post(later, cust, rng.choice(CLOSINGS))
                    return
                q, a = rng.choice(fitting)
                self.wait_and_answer(self.post(later, cust, q), cust, a, [], holds)
            elif r < 0.76:
                self.post(later, cust, "[动画表情]", EMOTICON)
                return
            elif r < 0.82:
                self.wait_and_answer(self.post(later, cust, rng.choice(SOFT_CLOSINGS)), cust, SOFT_REPLIES, [])
                return
            else:
                return  # silence: the customer read it and left

    def announcement(self, at: int) -> None:
        who = self.owner or self.responder()
        self.post(at, who, self.fill(self.rng.choice(ANNOUNCEMENTS[self.spec.stage])))
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            self.post(self.soon(20, 300), self.customer(), self.rng.choice(["[强]", "收到", "👍", "好的", "[OK]"]))

    # --- scripted scenes ----------------------------------------------------------------------

    def scene_late_closing(self, at: int) -> None:
        """Answered in two minutes; the customer says 好的谢谢 four and a half hours later."""
        cust = self.customers[0]
        t = self.ask(at, cust, "为啥菲菲这个账号群发会卡住")
        self.staff_says(t + 2 * MIN + 2 * SEC, self.owner,
                        "其实菲菲的就卡住了一次，导致后面的群发也都进行不下去的[捂脸] 现阶段，直接重启下账号就可以发出去哈")
        self.post(self.last + 4 * 60 * MIN + 31 * MIN, cust, "好的谢谢")

    def scene_cancel(self, at: int) -> None:
        """A 好的-like line the keyword list cannot tell from a question; the manager cancels at 88 min."""
        cust = self.customers[0]
        t = self.ask(at, cust, "我们下周一想先开 5 个账号试跑，合同能先按试用走吗？")
        self.staff_says(t + 3 * MIN + 17 * SEC, self.owner, "可以的，先签试用协议，正式合同月底前补上就行")
        started = self.post(self.last + 2 * MIN + 40 * SEC, cust, "好的吗？那就先这么办")
        self.post(started + 88 * MIN, None, cancel_reason="客户已回复好的，无需再回复")

    def scene_boss_nudge(self, at: int) -> None:
        """A colleague's @ in the room ends the wait for the clock, though the customer is not answered yet."""
        cust = self.customers[0]
        t = self.ask(at, cust, "线上活动马上开始了，拉群功能用不了，麻烦快点看下", mention=True)
        self.post(t + 7 * MIN, cust, "这个比较急，麻烦尽快看下🙏")
        self.post(t + 12 * MIN, S["李佳芮"], f"@{self.owner.name} 这个客户比较急，你优先跟进下",
                  mentions=(self.owner.id,))
        self.staff_says(t + 31 * MIN, self.owner, "拉群是企微接口限流了，我们先帮您切到备用通道，现在可以了", cust)
        self.post(self.soon(60, 200), cust, "可以了")

    def scene_abandoned(self, at: int) -> None:
        """Asked at the start of the evening, nudged three times, never answered today."""
        cust = self.customers[0]
        t = self.ask(at, cust, "合同盖章版什么时候能寄出来？我们财务今天要走付款")
        self.post(t + 47 * MIN, cust, "在吗？")
        self.ask(t + 95 * MIN, cust, "麻烦看下，今天必须走完流程", mention=True)
        self.post(t + 128 * MIN, self.customer(other_than=cust), "+1，我们这边也在等")

    # --- the day ---------------------------------------------------------------------------------

    def run(self) -> None:
        rng, spec = self.rng, self.spec
        if spec.silent:
            return
        start, stop = spec.window
        if spec.script == "abandoned":
            stop = clock(18, 30)
        t = start + int(rng.uniform(0, 40) * MIN)
        if spec.stage == "after_sales" and rng.random() < 0.5:
            self.announcement(clock(9, rng.randint(5, 40), rng.randint(0, 59)))
            t = self.soon(10 * 60, 40 * 60)
        scene_at = {"late_closing": clock(10, 41, 12), "cancel": clock(14, 2, 5),
                    "boss_nudge": clock(15, 12, 40)}.get(spec.script)
        while t < stop:
            if scene_at is not None and t >= scene_at - 30 * MIN:
                getattr(self, f"scene_{spec.script}")(max(scene_at, self.last + MIN))
                scene_at = None
            elif rng.random() < 0.05:
                self.announcement(t)
            else:
                self.conversation(t)
            t = self.last + int(rng.expovariate(1 / (spec.activity * PACE)) * MIN) + rng.randint(60, 300) * SEC
        if spec.script == "abandoned":
            self.scene_abandoned(max(clock(19, 8, 33), self.last + 5 * MIN))
        self.events = [e for e in self.events if e.ts < DAY_END - 30 * SEC]


# --- the whole day --------------------------------------------------------------------------------


def unique_ids(rng: random.Random, prefix: str, digits: int, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        candidate = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
        if candidate not in taken:
            taken.add(candidate)
            out.append(candidate)
    return out


def build(rng: random.Random) -> tuple[dict, list[dict]]:
    taken = {p.id for p in STAFF}
    room_ids = ["R:10696050863046802"] + unique_ids(rng, "R:10", 15, len(ROOMS) - 1, taken)
    names = CUSTOMER_NAMES[:]
    rng.shuffle(names)
    sims = []
    for spec, room_id in zip(ROOMS, room_ids):
        k = rng.choice([2, 3, 3, 4, 4, 5, 6])
        ids = unique_ids(rng, "7881", 12, k, taken)
        people = [Person(i, names.pop(), "customer") for i in ids]
        sims.append(RoomSim(rng, spec, room_id, people))
    for sim in sims:
        sim.run()

    # The bot posts notices in some rooms, now and then; its lines never stop a clock.
    active = [s for s in sims if s.events]
    for _ in range(26):
        sim = rng.choice(active)
        at = clock(9, 20) + rng.randrange(0, clock(21, 0) - clock(9, 20), SEC)
        taken_ts = {e.ts for e in sim.events}
        while at in taken_ts:
            at += SEC
        sim.events.append(Event(at, BOT, sim.fill(rng.choice(BOT_NOTICES), sim.customer())))
        sim.events.sort(key=lambda e: e.ts)

    merged = sorted(((e.ts, i, n, e) for i, s in enumerate(sims) for n, e in enumerate(s.events)),
                    key=lambda x: x[:3])
    lines: list[dict] = []
    prev_ts, next_id = 0, 8_613_402
    for ts, i, _, e in merged:
        ts = max(ts, prev_ts + SEC)  # one event per second in the whole stream: a total order
        prev_ts = ts
        sim = sims[i]
        if e.sender is None:
            lines.append({"action": "cancel", "roomId": sim.room_id, "by": "manager", "timestamp": ts,
                          "reason": e.cancel_reason})
            continue
        next_id += rng.randint(1, 9)  # the message counter is shared with rooms outside the demo
        lines.append({"id": str(next_id), "roomId": sim.room_id, "fromId": e.sender.id, "fromName": e.sender.name,
                      "roomTopic": sim.spec.topic, "text": e.text, "timestamp": ts, "type": e.type,
                      "mentionIdList": list(e.mentions)})

    roster = {
        "staff": [{"id": p.id, "name": p.name, "role": p.role, "team": p.team} for p in STAFF],
        "rooms": [{"id": s.room_id, "topic": s.spec.topic, "owner": S[s.spec.owner].id if s.spec.owner else None,
                   "stage": s.spec.stage} for s in sims if s.spec.listed],
    }
    return roster, lines


def main() -> None:
    roster, lines = build(random.Random(SEED))
    with open(HERE / "roster.json", "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(roster, ensure_ascii=False, indent=2) + "\n")
    with open(HERE / "messages.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(roster['staff'])} staff, {len(roster['rooms'])} rooms, {len(lines)} lines to {HERE}")


if __name__ == "__main__":
    main()

"""Lark unreachable for ten minutes of stepped time while the real pipeline (Ray, embedded Redis) keeps taking
messages and firing alerts, through the real notifier and lark-oapi against the Lark stand-in.

Checked on the way: the JSONL sink keeps up, the cards waiting for Lark never pass lark.max_waiting once
the notifier has looked (they fold, policies/backlog.py), the health API and the dashboard banner say Lark
is behind. After: every alert was delivered as its own card, in stream order, or folded into a card that
counts it; the catch-up cards go out first; health and banner clear. Nothing sleeps for the outage."""
from __future__ import annotations

import re
import time
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient

from sales_assistant.actors.notifier import MAX_BACKOFF_S, Notification, sink_specs
from sales_assistant.cli.bootstrap import build_pipeline, build_services, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import Message
from sales_assistant.policies.access import UserRole
from sales_assistant.store.folds import folded_log
from sales_assistant.web.app import create_app
from tests.support.clock import SteppedClock
from tests.support.lark_standin import LarkStandIn
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration

T = 1_795_136_400_000  # 2026-11-20 09:00 Asia/Shanghai: Lark goes down
S, M = 1000, 60_000
BOUND = 10
STEP = 10 * S
ROOMS = [f"R{i:02d}" for i in range(1, 25)]
OWNERS = ["s1", "s2", "s3"]
ROSTER = RosterFile.model_validate({
    "staff": [{"id": "s1", "name": "董森", "role": "sales", "team": "east"},
              {"id": "s2", "name": "荣生", "role": "sales", "team": "west"},
              {"id": "s3", "name": "李雷", "role": "sales", "team": "east"}],
    "rooms": [{"id": r, "topic": f"客户群{r}", "owner": OWNERS[i % 3], "stage": "pre_sales"}
              for i, r in enumerate(ROOMS)],
}).to_roster()


def day() -> list[Message]:
    """R01–R08 start waiting before the outage, R09–R24 during it; a few are answered while Lark is down."""
    items = [Message(f"c{r}", r, f"cust{r}", "在吗？价格怎么算", T - 15 * M + i * 30 * S) for i, r in enumerate(ROOMS[:8])]
    items += [Message(f"c{r}", r, f"cust{r}", "你好，合同什么时候发？", T + i * 15 * S) for i, r in enumerate(ROOMS[8:])]
    items += [Message(f"a{r}", r, OWNERS[ROOMS.index(r) % 3], "您好，马上为您处理", T + 6 * M) for r in ("R01", "R09")]
    return sorted(items, key=lambda m: m.ts)


def card_text(message: dict) -> str:
    return orjson.dumps(message["content"], option=orjson.OPT_NON_STR_KEYS).decode()


def test_ten_minutes_without_lark_keep_the_backlog_bounded_and_lose_nothing(ray_session, redis_dir, namespace,
                                                                           tmp_path):
    started = time.monotonic()
    data, url = redis_dir
    app_id = f"cli_{uuid.uuid4().hex[:8]}"
    jsonl = tmp_path / "alerts.jsonl"
    with LarkStandIn(app_id=app_id, app_secret="outage-s3cret") as lark:
        config = load_config(
            data_dir=data, redis_url=url, namespace=namespace, sinks=["jsonl", "lark"], closing_model="keywords",
            nlp={"check_staff": False}, alerts_jsonl=jsonl,
            lark={"app_id": app_id, "app_secret": "outage-s3cret", "domain": lark.url, "timeout_s": 1,
                  "max_waiting": BOUND, "public_chats": {"east": "oc_east", "west": "oc_west"},
                  "private_chats": {"s1": "oc_s1", "s2": "oc_s2", "s3": "oc_s3"}})
        p = build_pipeline(config, "virtual", [])  # the pipeline on Ray; the notifier here, on the stepped clock
        p.load_roster(ROSTER, overwrite_rooms=True)
        p.start(log_to_driver=False)
        clock = SteppedClock(T - 15 * M)
        notifier = Notification(url, namespace, sink_specs(config.settings), now=clock.now, wait=clock.wait)
        services = build_services(config, p.inbox)
        services.accounts.create("boss", "boss-password", UserRole.MANAGER)
        web = TestClient(create_app(services))
        csrf = web.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        web.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf})
        todo = day()

        def lark_health() -> dict:
            return web.get("/api/health").json()["sinks"]["lark"]

        def step_to(now: int) -> None:
            """Messages due by `now` in, the pipeline and the notifier's clock to `now`."""
            due = [m for m in todo if m.ts <= now]
            del todo[:len(due)]
            if due:
                assert p.push(due) == [True] * len(due)
            p.pump()
            p.advance(now)
            clock.set(now)
            fired = p.r.xlen(p.keys.alerts)
            assert wait_for(lambda: len(jsonl.read_bytes().splitlines()) == fired if jsonl.exists() else not fired)

        try:
            for now in range(T - 15 * M + STEP, T + 1, STEP):  # Lark answers: cards go out as alerts fire
                step_to(now)
            assert wait_for(notifier.drained)
            before = len(lark.messages)
            assert before > 0 and lark_health()["failing_since"] is None
            lark.set_down(True)
            most_waiting, folded_seen = 0, 0
            for now in range(T + STEP, T + 10 * M + 1, STEP):  # ten minutes of outage
                step_to(now)
                assert p.inbox.caught_up()  # the pipeline keeps taking and applying messages
                assert wait_for(lambda: lark_health()["waiting"] <= BOUND), lark_health()
                health = lark_health()
                most_waiting, folded_seen = max(most_waiting, health["waiting"]), max(folded_seen, health["folded"])
            fired_in_outage = p.r.xlen(p.keys.alerts) - before
            assert lark.messages[before:] == [] and fired_in_outage > 2 * BOUND
            health = lark_health()
            assert health["failing_since"] and 0 < most_waiting <= BOUND and folded_seen > 0
            page = web.get("/").text
            assert "飞书暂时无法送达" in page and f"({health['waiting']})" in page and "已合并" in page
            episodes = p.report(_day(), _day(), now_ms=now)["episodes"]
            assert sorted(e["room_id"] for e in episodes if e["reply_at"]) == ["R01", "R09"]  # answered meanwhile

            fired_by_recovery = p.r.xlen(p.keys.alerts)
            lark.set_down(False)
            # Lark is back. Only the notifier's clock moves until its retry comes due and the backlog is out, so the
            # cards that leave first are exactly the outage's backlog (an alert firing meanwhile could refold it).
            notifier_now = now

            def retry_drains() -> bool:
                nonlocal notifier_now
                if notifier.drained():
                    return True
                notifier_now += S
                clock.set(notifier_now)
                return False

            assert wait_for(retry_drains, interval_s=0.05)
            assert notifier_now - now <= 2 * MAX_BACKOFF_S * S
            for now in range(T + 10 * M + STEP, T + 12 * M + 1, STEP):  # then the pipeline goes on: plain cards
                step_to(now)
            assert wait_for(notifier.drained)
            assert lark_health() == {"failing_since": None, "waiting": 0, "folded": 0}
            assert "飞书暂时无法送达" not in web.get("/").text
        finally:
            notifier.close()
            p.stop()

        alerts = [orjson.loads(f["d"]) for _, f in p.r.xrange(p.keys.alerts)]
        position = {a["alert_id"]: i for i, a in enumerate(alerts)}
        # The file sink saw every alert, in stream order, as they fired.
        assert [orjson.loads(line)["alert_id"] for line in jsonl.read_bytes().splitlines()] == list(position)
        own, summaries, carried, kinds = [], 0, 0, []  # kinds: the cards after the outage, in order
        backlog_cards = 0  # of those, the cards that stood for alerts fired while Lark was down
        for i, m in enumerate(lark.messages):
            text = card_text(m)
            found = re.search(r"提醒编号：([^\"]+)", text)
            if found is None:  # a catch-up card: to its team's public chat, counting what it stands for
                assert m["chat_id"] in ("oc_east", "oc_west")
                summaries += int(re.search(r"提醒积压 · (\d+) 条提醒汇总", text).group(1))
                kinds.append("summary")
                backlog_cards += 1
                assert i >= before
                continue
            alert_id = found.group(1)
            if own and own[-1] == alert_id:
                continue  # the same card to its next chat
            own.append(alert_id)
            if i >= before:
                kinds.append("room")
                backlog_cards += position[alert_id] < fired_by_recovery
            folded = re.search(r"此群另有 (\d+) 条较早的提醒", text)
            carried += int(folded.group(1)) if folded else 0
        # In order: each room card after the one before it in the stream, the catch-up cards first after the outage.
        assert [position[a] for a in own] == sorted(position[a] for a in own)
        assert "summary" in kinds and kinds == sorted(kinds, key=lambda k: k != "summary")
        # None lost: every alert is a card of its own or folded, never both, and the cards count them all.
        moved = [alert_id for alert_id, _ in folded_log(p.r, p.keys, "lark")]
        assert set(own).isdisjoint(moved) and set(own) | set(moved) == set(position)
        assert len(own) + carried + summaries == len(alerts)
        assert int(p.r.hget(p.keys.stats, "folded:lark")) == len(moved)
        # A bounded flood: far fewer cards when Lark came back than alerts fired while it was away.
        assert backlog_cards <= BOUND < 2 * BOUND < fired_in_outage
        # R01 and R09 were answered during the outage: their catch-up lines and cards say so, and only theirs.
        marked = set()
        for m in lark.messages[before:]:
            content = m["content"]
            if content["header"]["title"]["content"].endswith("（此后已回复或已处理）"):
                marked |= {r for r in ("R01", "R09") if f"客户群{r}" in card_text(m)}
                assert len(marked) and not re.search(r"客户群R(0[2-8]|1\d|2\d)", card_text(m))
            for line in content["elements"][0].get("text", {}).get("content", "").splitlines():
                if line.endswith("（此后已回复或已处理）"):
                    marked |= {r for r in ("R01", "R09") if line.startswith(f"客户群{r} ")}
                    assert line.startswith(("客户群R01 ", "客户群R09 ")), line
        assert marked == {"R01", "R09"}
        assert "outage-s3cret" not in (data / "redis.log").read_text()
    assert time.monotonic() - started < 10 * 60  # less than the outage lasted: nothing waited it out for real


def _day():
    from datetime import date

    return date(2026, 11, 20)


def test_a_team_without_a_public_chat_gets_its_catch_up_lines_in_each_reps_private_chat():
    from sales_assistant.connectors.lark import LarkSettings, LarkSink

    with LarkStandIn(app_id="cli_catchup", app_secret="catch-up-secret") as lark:
        sink = LarkSink(LarkSettings(app_id="cli_catchup", app_secret="catch-up-secret", domain=lark.url,
                                     private_chats={"s1": "oc_s1", "s2": "oc_s2"}), "Asia/Shanghai")
        rows = [{"room_id": r, "topic": f"客户群{r}", "owner_id": owner, "owner_name": None, "level": "green",
                 "waited_minutes": 5, "first_at": T, "last_at": T + M, "alerts": n}
                for r, owner, n in (("R01", "s1", 2), ("R02", "s2", 1), ("R03", "s1", 3))]
        sink.deliver_catch_up("east", rows, 6, "1-0")
        sink.deliver_catch_up("east", rows, 6, "1-0")  # a resend after a crash: Lark drops it by uuid
        got = {m["chat_id"]: card_text(m) for m in lark.messages}
        assert len(lark.messages) == 2 and "提醒积压 · 5 条提醒汇总（2 个群）" in got["oc_s1"]
        assert "提醒积压 · 1 条提醒汇总（1 个群）" in got["oc_s2"] and "R01" not in got["oc_s2"]

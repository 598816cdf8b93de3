"""The burst at opening: two thousand questions asked overnight all resume counting at 09:00 on a business
clock, so their alerts fall due together at 09:05 and 09:10. Through the real pipeline (Ray, embedded Redis)
and the real notifier with lark-oapi against the Lark stand-in: the cards keep Lark's send limits (per app a
second and a minute, per chat a second), and the flood is folded, never dropped: every alert is a card of
its own or counted in one that went out. Nothing fires at night."""
from __future__ import annotations

import re
import uuid

import orjson
import pytest
import yaml

from sales_assistant.actors.notifier import Notification, sink_specs
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.config.settings import DEFAULT_POLICY
from sales_assistant.connectors.lark import APP_SENDS_PER_MINUTE, APP_SENDS_PER_SECOND, CHAT_SENDS_PER_SECOND
from sales_assistant.core.messages import Message
from sales_assistant.core.timeutil import parse_iso
from sales_assistant.store.folds import folded_log
from tests.support.clock import SteppedClock
from tests.support.lark_standin import LarkStandIn
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration

SH, S, M = "Asia/Shanghai", 1000, 60_000
ROOMS, REPS, BOUND = 2000, 20, 100
EVENING = parse_iso("2026-11-19T20:00", SH)  # Thursday: the calendar closed at 18:30
OPENING = parse_iso("2026-11-20T09:00", SH)
JITTER_S = 0.1  # a send's arrival may lag its turn by up to this much (HTTP on loopback)
ROSTER = RosterFile.model_validate({
    "staff": [{"id": f"s{i}", "name": f"销售{i}", "role": "sales", "team": "east" if i % 2 else "west"}
              for i in range(REPS)],
    "rooms": [{"id": f"R{n:04d}", "topic": f"客户群{n}", "owner": f"s{n % REPS}", "stage": "pre_sales"}
              for n in range(ROOMS)],
}).to_roster()


def business_policy(tmp_path):
    doc = yaml.safe_load(DEFAULT_POLICY.read_text())
    doc["pre_sales"] = {**doc["pre_sales"], "clock": "business"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def most_in_any_window(times: list[float], span_s: float) -> int:
    times, most, first = sorted(times), 0, 0
    for last, t in enumerate(times):
        while t - times[first] > span_s:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.slow
def test_thousands_of_clocks_resuming_at_nine_keep_lark_limits_by_folding(ray_session, redis_dir, namespace,
                                                                          tmp_path):
    data, url = redis_dir
    app_id = f"cli_{uuid.uuid4().hex[:8]}"
    with LarkStandIn(app_id=app_id, app_secret="burst-s3cret") as lark:
        config = load_config(
            data_dir=data, redis_url=url, namespace=namespace, sinks=["lark"], closing_model="keywords",
            nlp={"check_staff": False}, shards=2, policy_file=business_policy(tmp_path),
            lark={"app_id": app_id, "app_secret": "burst-s3cret", "domain": lark.url, "timeout_s": 2,
                  "max_waiting": BOUND, "public_chats": {"east": "oc_east", "west": "oc_west"},
                  "private_chats": {f"s{i}": f"oc_s{i}" for i in range(REPS)}})
        p = build_pipeline(config, "virtual", [])
        p.load_roster(ROSTER, overwrite_rooms=True)
        p.start(log_to_driver=False)
        clock = SteppedClock(EVENING)
        notifier = Notification(url, namespace, sink_specs(config.settings), now=clock.now, wait=clock.wait)
        try:
            questions = [Message(f"q{n}", f"R{n:04d}", f"c{n}", "请问这个怎么收费？", EVENING + n * 6 * S)
                         for n in range(ROOMS)]  # 20:00 to 23:20, all after closing
            p.replay(questions, chunk=500)
            p.advance(OPENING - 1)  # through the night
            assert p.r.xlen(p.keys.alerts) == 0
            for now in (OPENING + 5 * M, OPENING + 10 * M, OPENING + 12 * M):  # green, then yellow, for every room
                p.advance(now)
                clock.set(now)
            assert p.r.xlen(p.keys.alerts) == 2 * ROOMS

            def delivered() -> bool:  # the notifier's clock moves on, so its backoff and fold checks come due
                clock.set(clock.now() + 5 * S)
                return notifier.drained()
            assert wait_for(delivered, timeout_s=240, interval_s=0.2)
        finally:
            notifier.close()
            p.stop()

        alerts = [orjson.loads(f["d"]) for _, f in p.r.xrange(p.keys.alerts)]
        assert {a["at"] for a in alerts} == {OPENING + 5 * M, OPENING + 10 * M}
        assert sorted(a["business_minutes"] for a in alerts) == [5] * ROOMS + [10] * ROOMS

        sent = lark.messages
        times = [m["received_at"] for m in sent]
        # Lark's limits, kept by the sender's pacing (an arrival may lag its turn by the loopback's jitter)
        assert most_in_any_window(times, 1.0 - JITTER_S) <= APP_SENDS_PER_SECOND
        assert most_in_any_window(times, 60.0 - JITTER_S) <= APP_SENDS_PER_MINUTE
        by_chat: dict[str, list[float]] = {}
        for m in sent:
            by_chat.setdefault(m["chat_id"], []).append(m["received_at"])
        assert max(most_in_any_window(t, 1.0 - JITTER_S) for t in by_chat.values()) <= CHAT_SENDS_PER_SECOND

        # Folded, not dropped: each alert went out as its own card or is counted in one that did
        position = {a["alert_id"]: i for i, a in enumerate(alerts)}
        own, carried, summarised = [], 0, 0
        for m in sent:
            text = orjson.dumps(m["content"], option=orjson.OPT_NON_STR_KEYS).decode()
            found = re.search(r"提醒编号：([^\"]+)", text)
            if found is None:  # a catch-up card to a team's public chat
                assert m["chat_id"] in ("oc_east", "oc_west")
                summarised += int(re.search(r"(\d+) 条提醒汇总", text).group(1))
                continue
            if own and own[-1] == found.group(1):
                continue  # the same card to its next chat
            own.append(found.group(1))
            folded = re.search(r"此群另有 (\d+) 条较早的提醒", text)
            carried += int(folded.group(1)) if folded else 0
        moved = [alert_id for alert_id, _ in folded_log(p.r, p.keys, "lark")]
        assert set(own).isdisjoint(moved) and set(own) | set(moved) == set(position)
        assert len(own) + carried + summarised == len(alerts) == 2 * ROOMS
        assert len(sent) < len(alerts) // 4  # the flood became a bounded number of cards

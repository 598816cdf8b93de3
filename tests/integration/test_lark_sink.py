"""The Lark sink through real lark-oapi against the local Lark stand-in: routing, dedupe, failures, secrets."""
from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sales_assistant.connectors.lark import DeliveryError, LarkSettings, LarkSink, idempotency_key
from tests.support.lark_standin import LarkStandIn
from tests.unit.test_lark_card import make_alert

TZ = "Asia/Shanghai"

SECRET = "s3cr3t-app-secret-value"
TIMEOUT_S = 0.5


@pytest.fixture
def lark() -> Iterator[LarkStandIn]:
    # A fresh app_id per test: lark-oapi caches tenant tokens process-wide, keyed by app_id alone.
    with LarkStandIn(app_id=f"cli_{uuid.uuid4().hex[:12]}", app_secret=SECRET) as standin:
        yield standin


def settings_for(lark: LarkStandIn, **overrides: Any) -> LarkSettings:
    values: dict[str, Any] = {
        "app_id": lark.app_id,
        "app_secret": SECRET,
        "domain": lark.url,
        "public_chats": {"default": "oc_public", "east": "oc_east"},
        "private_chats": {"s-li": "oc_li"},
        "timeout_s": TIMEOUT_S,
    }
    values.update(overrides)
    return LarkSettings(**values)


@pytest.fixture
def sink(lark: LarkStandIn) -> Iterator[LarkSink]:
    sink = LarkSink(settings_for(lark), TZ)
    yield sink
    sink.close()


def chats(lark: LarkStandIn) -> list[str]:
    return [m["chat_id"] for m in lark.messages]


def no_secret_in(error: BaseException) -> bool:
    """Not in the message, the traceback, or anything the error object still holds on to."""
    text = "".join(traceback.format_exception(error))
    held = error.__cause__ is None and error.__context__ is None  # requests' exceptions keep the request body
    return held and SECRET not in text and SECRET not in repr(vars(error))


def test_token_first_then_one_card_per_target_chat(lark: LarkStandIn, sink: LarkSink) -> None:
    alert = make_alert()
    sink.deliver(alert)
    assert lark.token_requests == 1
    assert chats(lark) == ["oc_li", "oc_east"]
    for message in lark.messages:
        assert message["msg_type"] == "interactive"
        assert message["content"]["header"]["template"] == "orange"
        assert message["uuid"] == idempotency_key(alert["alert_id"], message["chat_id"])
        assert message["message_id"].startswith("om_")
    sink.deliver(make_alert(alert_id="room-1/clock-1/3", level="red"))
    assert lark.token_requests == 1  # the token is cached, not fetched per message
    assert len(lark.messages) == 4


def test_private_only_goes_to_the_reps_chat(lark: LarkStandIn, sink: LarkSink) -> None:
    sink.deliver(make_alert(targets=["private"]))
    assert chats(lark) == ["oc_li"]


def test_team_without_a_chat_uses_the_default_public_chat(lark: LarkStandIn, sink: LarkSink) -> None:
    sink.deliver(make_alert(targets=["public"], team="north"))
    sink.deliver(make_alert(alert_id="room-2/clock-1/0", targets=["public"], team=None))
    assert chats(lark) == ["oc_public", "oc_public"]


def test_rep_without_private_chat_falls_back_to_public_logged_once(
    lark: LarkStandIn, sink: LarkSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sales_assistant.connectors.lark")
    sink.deliver(make_alert(owner_id="s-new", owner_name="新人", targets=["private"]))
    sink.deliver(make_alert(alert_id="room-1/clock-1/3", owner_id="s-new", targets=["private", "public"]))
    sink.deliver(make_alert(alert_id="room-9/clock-1/0", owner_id=None, owner_name=None, targets=["private"]))
    assert chats(lark) == ["oc_east", "oc_east", "oc_east"]  # private + public resolve to one chat: sent once
    warnings = [r.getMessage() for r in caplog.records if r.name == "sales_assistant.connectors.lark" and r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "s-new" in warnings[0] and "unassigned" in warnings[1]


def test_same_alert_twice_is_posted_once_even_from_a_new_sink(lark: LarkStandIn, sink: LarkSink) -> None:
    alert = make_alert()
    sink.deliver(alert)
    sink.deliver(alert)
    LarkSink(settings_for(lark), TZ).deliver(alert)  # as after a crash and restart
    assert chats(lark) == ["oc_li", "oc_east"]


def test_lark_error_raises_and_a_resend_completes_without_duplicates(lark: LarkStandIn, sink: LarkSink) -> None:
    lark.fail_next(1, status=500)
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert())
    assert "oc_li" in str(caught.value) and "500" in str(caught.value)
    assert caught.value.chat_id == "oc_li" and caught.value.code == 500 and caught.value.lark_answered
    assert chats(lark) == ["oc_east"]  # the other chat still got its card
    sink.deliver(make_alert())  # the notifier's retry
    assert sorted(chats(lark)) == ["oc_east", "oc_li"]


def test_a_rate_limited_send_says_when_to_try_again_as_lark_asks(lark: LarkStandIn, sink: LarkSink) -> None:
    lark.rate_limit_next(1, reset_s=7)
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert())
    assert caught.value.code == 99991400 and "429" in str(caught.value)
    assert caught.value.retry_after_s == 7.0  # Lark's x-ogw-ratelimit-reset, which the notifier waits out
    sink.deliver(make_alert())
    assert sorted(chats(lark)) == ["oc_east", "oc_li"]


def test_lark_down_raises_without_the_secret(lark: LarkStandIn, sink: LarkSink) -> None:
    lark.set_down(True)
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert())
    assert "oc_li" in str(caught.value) and not caught.value.lark_answered
    assert no_secret_in(caught.value)
    assert lark.messages == []
    lark.set_down(False)
    sink.deliver(make_alert())
    assert chats(lark) == ["oc_li", "oc_east"]


def test_wrong_secret_names_larks_code_not_the_secret(lark: LarkStandIn) -> None:
    wrong = "wrong-" + SECRET
    sink = LarkSink(settings_for(lark, app_secret=wrong), TZ)
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert())
    text = "".join(traceback.format_exception(caught.value))
    assert "10014" in str(caught.value) and caught.value.code == 10014
    assert wrong not in text and SECRET not in text and no_secret_in(caught.value)
    assert lark.messages == [] and lark.token_requests == 1  # stopped at the first chat: no token, no send


def test_slow_lark_fails_within_about_the_timeout(lark: LarkStandIn, sink: LarkSink) -> None:
    sink.deliver(make_alert(targets=["public"]))  # token fetched while Lark is fast
    lark.set_delay(5)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert(alert_id="room-1/clock-1/3"))
    elapsed = time.monotonic() - started
    assert TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_S * 3  # one timeout: it does not go on to the second chat
    assert "Timeout" in str(caught.value) and no_secret_in(caught.value)


def test_revoked_token_is_dropped_so_the_next_send_gets_a_new_one(lark: LarkStandIn, sink: LarkSink) -> None:
    sink.deliver(make_alert(targets=["public"]))
    lark.revoke_tokens()
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(make_alert(alert_id="room-1/clock-1/3", targets=["public"]))
    assert caught.value.code == 99991663
    sink.deliver(make_alert(alert_id="room-1/clock-1/3", targets=["public"]))
    assert lark.token_requests == 2
    assert len(lark.messages) == 2


def test_unroutable_alerts_raise(lark: LarkStandIn) -> None:
    sink = LarkSink(settings_for(lark, public_chats={"east": "oc_east"}, private_chats={}), TZ)
    with pytest.raises(DeliveryError, match="no Lark chat"):
        sink.deliver(make_alert(targets=["public"], team="north"))
    with pytest.raises(DeliveryError, match="unknown alert target"):
        sink.deliver(make_alert(targets=["everyone"]))
    assert lark.messages == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"app_id": ""}, "app_id"), ({"app_secret": ""}, "app_secret"),
     ({"public_chats": {}, "private_chats": {}}, "public_chats"), ({"timeout_s": 0}, "timeout_s")],
)
def test_bad_settings_fail_at_start_naming_the_field(lark: LarkStandIn, overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LarkSink(settings_for(lark, **overrides), TZ)


def test_sink_repr_hides_the_secret(sink: LarkSink) -> None:
    assert SECRET not in repr(sink) and SECRET not in repr(vars(sink))


def test_standin_updates_a_card_in_place(lark: LarkStandIn, sink: LarkSink) -> None:
    import lark_oapi
    from lark_oapi.api.im.v1 import PatchMessageRequest, PatchMessageRequestBody

    sink.deliver(make_alert(targets=["public"]))
    message_id = lark.messages[0]["message_id"]
    client = lark_oapi.Client.builder().app_id(lark.app_id).app_secret(SECRET).domain(lark.url).build()
    card = {"header": {"template": "green", "title": {"tag": "plain_text", "content": "已回复"}}, "elements": []}
    request = (
        PatchMessageRequest.builder()
        .message_id(message_id)
        .request_body(PatchMessageRequestBody.builder().content(json.dumps(card)).build())
        .build()
    )
    assert client.im.v1.message.patch(request).success()
    assert lark.updates == [{"message_id": message_id, "content": card}]


SUGGESTION = {"suggestion_id": "m42", "message_id": "m42", "room_id": "R1", "topic": "网易严选", "sender_id": "s-li",
              "sender_name": "李", "text": "合同已经发到你的邮相了", "corrected": "合同已经发到你的邮箱了",
              "typos": [{"start": 9, "end": 10, "wrong": "相", "suggestion": "箱"}],
              "phrasing": [{"kind": "informal_you", "message": "对客户请用敬称“您”，不要用“你”。", "suggestion": "您"}]}


def test_suggestion_goes_only_to_the_writers_private_chat_once(lark: LarkStandIn, sink: LarkSink) -> None:
    sink.deliver_suggestion(SUGGESTION)
    sink.deliver_suggestion(SUGGESTION)  # a redelivery after a crash
    sink.deliver_suggestion({**SUGGESTION, "suggestion_id": "m43", "sender_id": "colleague-without-chat"})
    assert chats(lark) == ["oc_li"]  # never the team's public chat
    card = lark.messages[0]["content"]
    text = json.dumps(card, ensure_ascii=False)
    assert card["header"]["template"] == "blue" and "措辞建议" in text
    assert "合同已经发到你的邮相了" in text and "合同已经发到你的邮箱了" in text and "相 → 箱" in text


def test_suggestion_is_a_direct_message_when_the_writers_open_id_is_known(lark: LarkStandIn, sink: LarkSink) -> None:
    with_id = {**SUGGESTION, "sender_open_id": "ou_li"}
    sink.deliver_suggestion(with_id)
    sink.deliver_suggestion(with_id)  # a redelivery after a crash
    assert [(m["open_id"], m["chat_id"]) for m in lark.messages] == [("ou_li", None)]  # not the private group
    assert "合同已经发到你的邮箱了" in json.dumps(lark.messages[0]["content"], ensure_ascii=False)


def test_cards_show_times_in_the_zone_the_sink_is_given(lark: LarkStandIn) -> None:
    """The sink shows the service's `timezone` (settings), not a zone of its own: 06:05 UTC is 07:05 in Berlin."""
    sink = LarkSink(settings_for(lark), "Europe/Berlin")
    sink.deliver(make_alert(targets=["private"]))
    shown = json.dumps(lark.messages[0]["content"], ensure_ascii=False)
    assert "超时时刻（Europe/Berlin）：2026-11-23 07:05:00" in shown and "14:05" not in shown
    # The leaderboard keeps its own zone only where one is configured.
    assert sink.leaderboard_tz == "Europe/Berlin"
    assert LarkSink(settings_for(lark, leaderboard_tz="UTC"), "Europe/Berlin").leaderboard_tz == "UTC"

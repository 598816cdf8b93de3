"""What the WeChat bridge posts (bridges/wechaty): Wechaty 1.x's names (talkerId, talkerName) beside the old
ones, and the bot's own messages marked `self`, which never start or stop a clock whoever the roster says
the sender is."""
import msgspec
import pytest
from pydantic import ValidationError

from sales_assistant.connectors.wechaty import WechatyMessage, payload_of
from sales_assistant.core.messages import MessageType
from sales_assistant.core.room import ClockStarted, Room
from sales_assistant.core.roster import Role, RoomInfo, Speaker, Stage
from sales_assistant.store.wire import MessageRow, encode

T, M = 1_796_000_000_000, 60_000
BRIDGE = {"id": "m1", "roomId": "R1@chatroom", "talkerId": "wxid_customer", "talkerName": "王女士", "text": "在吗",
          "timestamp": T, "type": 7, "mentionIdList": [], "self": False, "roomTopic": "网易严选"}


def test_the_bridges_payload_reads_as_a_message():
    m = WechatyMessage.model_validate(BRIDGE).to_message()
    assert (m.sender_id, m.sender_name, m.room_topic, m.from_bot) == ("wxid_customer", "王女士", "网易严选", False)
    old = WechatyMessage.model_validate({**{k: v for k, v in BRIDGE.items() if k not in ("talkerId", "talkerName")},
                                         "fromId": "wxid_customer", "fromName": "王女士"}).to_message()
    assert old == m


def test_self_is_a_json_boolean_and_round_trips():
    bot = WechatyMessage.model_validate({**BRIDGE, "self": True}).to_message()
    assert bot.from_bot and payload_of(bot)["self"] is True
    assert WechatyMessage.model_validate(payload_of(bot)).to_message() == bot
    with pytest.raises(ValidationError, match="self"):
        WechatyMessage.model_validate({**BRIDGE, "self": "yes"})
    with pytest.raises(ValidationError, match="fromId"):
        WechatyMessage.model_validate({k: v for k, v in BRIDGE.items() if k != "talkerId"})


def test_the_mark_crosses_the_inbox_and_rows_written_before_it_read_as_not_the_bots():
    bot = WechatyMessage.model_validate({**BRIDGE, "self": True}).to_message()
    decoder = msgspec.json.Decoder(MessageRow)
    assert decoder.decode(encode(MessageRow.of(bot))).message() == bot
    older = b'["m1","R1@chatroom","wxid_customer","x",1796000000000,7,[],null,null,false]'
    assert decoder.decode(older).from_bot is False


@pytest.mark.parametrize("role", [None, Role.SALES])  # unknown to the roster (a customer) or the owner
def test_the_bots_own_messages_neither_start_nor_stop_a_clock(role):
    room = Room(RoomInfo("R1@chatroom", "网易严选", "s1", Stage.PRE_SALES))
    sender = "wxid_bot" if role is None else "s1"
    said = WechatyMessage.model_validate({**BRIDGE, "talkerId": sender, "self": True}).to_message()
    outcome = room.handle(said, role, 0)
    assert (outcome.speaker, outcome.event, room.clock) == (Speaker.BOT, None, None)
    started = room.handle(WechatyMessage.model_validate({**BRIDGE, "id": "m2", "timestamp": T + M}).to_message(),
                          None, 1)
    assert isinstance(started.event, ClockStarted)
    note = {**BRIDGE, "id": "m3", "talkerId": sender, "self": True, "timestamp": T + 2 * M,
            "type": int(MessageType.GROUP_NOTE), "roomTopic": "网易严选VIP", "text": "董森 修改群名为“网易严选VIP”"}
    echo = room.handle(WechatyMessage.model_validate(note).to_message(), role, 2)
    assert (echo.speaker, echo.event) == (Speaker.BOT, None)
    assert room.clock is not None and room.clock.clock_id == "m2" and room.topic == "网易严选VIP"

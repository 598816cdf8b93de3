"""Hypothesis strategies for the fuzz tests: arbitrary JSON, hostile text, valid inputs and one-field breakage."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from sales_assistant.connectors.wechaty import MAX_TEXT_CHARS, NOT_IN_ROOM_ID
from sales_assistant.core.messages import MessageType

# Text a real chat sends and parsers trip on: emoji sequences, right-to-left marks, NUL, BOM, CJK.
NASTY = ["👌", "👨‍👩‍👧", "🇨🇳", "\u202eRTL\u202c", "مرحبا", "\x00", "a\x00b", "\ufeff", "好的", "\r\n", "\\", '"', "\u200b"]

# Valid str fields: anything but lone surrogates (JSON can carry them escaped; pydantic refuses them).
safe_chars = st.characters(blacklist_categories=("Cs",))
hostile_text = st.one_of(st.text(safe_chars, max_size=30), st.sampled_from(NASTY),
                         st.lists(st.sampled_from(NASTY), min_size=1, max_size=6).map("".join))
any_text = st.one_of(hostile_text, st.text(max_size=20))  # lone surrogates included


def ids(max_size: int = 128) -> st.SearchStrategy[str]:
    return st.one_of(st.text(safe_chars, min_size=1, max_size=max_size), st.sampled_from(NASTY))


def room_ids() -> st.SearchStrategy[str]:
    """Hostile room ids the door still accepts (connectors/wechaty.py: one path segment, no controls)."""
    return ids().map(lambda text: NOT_IN_ROOM_ID.sub("", text)).filter(lambda text: text not in ("", ".", ".."))


def long_text(max_chars: int) -> st.SearchStrategy[str]:
    """Up to `max_chars` characters without generating them one by one (hypothesis caps drawn sizes)."""
    return st.tuples(hostile_text.filter(bool), st.integers(1, max_chars)).map(
        lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]])


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.floats(),
                         any_text)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=16,
)


def to_json_bytes(value: Any) -> bytes:
    """ASCII-escaped, so lone surrogates travel as \\ud800 the way a buggy client would send them."""
    return json.dumps(value).encode()


# --- Wechaty messages -----------------------------------------------------------------------------

T_MIN, T_MAX = 946_684_800_001, 4_102_444_799_999


def wechaty_messages(id_strategy: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "id": ids() if id_strategy is None else id_strategy,
            "roomId": room_ids(),
            "fromId": ids(),
            "text": st.one_of(hostile_text, long_text(MAX_TEXT_CHARS)),
            "timestamp": st.integers(T_MIN, T_MAX),
            "type": st.sampled_from([int(t) for t in MessageType]),
            "mentionIdList": st.lists(ids(), max_size=4),
        },
        optional={"roomTopic": st.text(safe_chars, max_size=256), "fromName": st.text(safe_chars, max_size=128)},
    )


# Per field of a Wechaty message, values that must be refused (lax pydantic turns "5" into 5, so no digits).
BROKEN_MESSAGE_FIELDS: dict[str, list] = {
    "id": ["", None, 7, [], {}, "x" * 129],
    "roomId": ["", None, 1.5, ["R1"], "r" * 129, "R:1/../../rooms/R:2", "..", "R\\1", "R\x001", "R\x1b[31m",
               "R\u202e1"],
    "fromId": ["", None, True, {"id": "c1"}],
    "text": [None, 12, ["hi"], "字" * (MAX_TEXT_CHARS + 1)],
    "timestamp": ["yesterday", "1795136400000", 1.7951364e12, True, None, 0, -1, 10**13, 946_684_800_000],
    "type": [99, -1, "TEXT", None, 7.5, []],
    "mentionIdList": ["u1", [1], [None], {}, ["u"] * 501],
    "roomTopic": [1, [], "t" * 257],
    "fromName": [1, {}, "n" * 129],
}


# --- one field broken in an otherwise valid document ----------------------------------------------

# Values no str/int/enum/list field accepts, even in pydantic's lax mode.
BREAKERS = [{"unexpected": 1}, [["nested"]], 1.5e300]


def leaf_paths(doc: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from leaf_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from leaf_paths(v, (*prefix, i))
    else:
        yield prefix


def replace_at(doc: Any, path: tuple, value: Any) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def dotted(path: tuple) -> str:
    """The field path as pydantic's `loc` joined with dots, the way every error message here names it."""
    return ".".join(str(p) for p in path)

"""Property tests for everything that reads files or environment: the config loader, the policy and roster
file models and the replay reader. Whatever the input, they either load it or fail with the documented error
(ConfigError, pydantic's ValidationError) whose message names the field path or the line."""
from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sales_assistant.config.policy_file import PolicyFile
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.config.settings import (
    DEFAULT_POLICY,
    ConfigError,
    Settings,
    load_policy,
    load_roster_file,
    load_settings,
    read_mapping,
)
from sales_assistant.connectors.replay import MAX_LINE_BYTES, read_replay
from sales_assistant.core.messages import CancelClock, Message
from tests.support.strategies import (
    BREAKERS,
    BROKEN_MESSAGE_FIELDS,
    any_text,
    dotted,
    ids,
    json_values,
    leaf_paths,
    replace_at,
    to_json_bytes,
    wechaty_messages,
)

FUZZ = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
VALID_POLICY = json.loads(json.dumps(read_mapping(DEFAULT_POLICY)))  # the built-in ladder, its YAML anchor unshared
OPTIONAL_POLICY_KEYS = {"clock"}  # a stage's clock defaults to wall: leaving it out is no error
VALID_ROSTER = {
    "staff": [{"id": "s1", "name": "董森", "role": "sales", "team": "销售一部"},
              {"id": "s2", "name": "许晴", "role": "after_sales"},
              {"id": "b1", "name": "机器人", "role": "bot"}],
    "rooms": [{"id": "R1", "topic": "句子互动服务群", "owner": "s1", "stage": "pre_sales"},
              {"id": "R2", "topic": "", "owner": None, "stage": "after_sales"}],
}
VALID_CONFIG = {"data_dir": ".data", "namespace": "sa", "shards": 2, "batch_size": 500, "timezone": "Asia/Shanghai",
                "lang": "zh", "sinks": ["console", "jsonl"],
                "nlp": {"check_staff": True, "typo_model": "ngram", "domain_words": ["句子互动", "SCRM"]},
                "lark": {"app_id": "cli_x", "public_chats": {"default": "oc_1"}},
                "http": {"host": "127.0.0.1", "port": 8000, "max_body_bytes": 5_000_000}}


@contextmanager
def scratch_file(name: str, data: bytes):
    """Hypothesis reruns the body many times: one fresh file per example, not a pytest tmp_path."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        yield path


@contextmanager
def only_env(**env: str):
    """The process environment minus every setting the loader reads, plus `env`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SA_") and k not in ("REDIS_URL", "RAY_ADDRESS")}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({**keep, **env})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- read_mapping: any bytes ------------------------------------------------------------------------


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), any_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
                      json_values.map(to_json_bytes)),
       suffix=st.sampled_from([".yaml", ".json", ".yml"]))
@example(data=b"\xff\xfe\x00a: 1", suffix=".yaml")  # not UTF-8
@example(data=b"[" * 5000, suffix=".yaml")  # nested past the recursion limit
@example(data=b"[" * 5000, suffix=".json")
@example(data=b"a: !!python/object/apply:os.system [echo hi]", suffix=".yaml")
def test_read_mapping_returns_a_mapping_or_a_config_error_naming_the_file(data, suffix):
    with scratch_file("app" + suffix, data) as path:
        try:
            assert isinstance(read_mapping(path), dict)
        except ConfigError as e:
            assert str(e).startswith(str(path))


def test_a_missing_file_is_named():
    with pytest.raises(ConfigError, match="nowhere.yaml: cannot read"):
        read_mapping(Path("/nonexistent/nowhere.yaml"))


# --- the policy file --------------------------------------------------------------------------------


@FUZZ
@given(doc=json_values)
def test_policy_from_arbitrary_json_loads_or_names_what_is_wrong(doc):
    with scratch_file("policy.json", to_json_bytes(doc)) as path:
        try:
            policy = load_policy(path)
        except ConfigError as e:
            assert str(e).startswith(str(path))
        else:
            assert policy.ladder("pre_sales").step(0) is not None


@FUZZ
@given(path=st.sampled_from(list(leaf_paths(VALID_POLICY))), bad=st.sampled_from([*BREAKERS, "pink", -5, 0, None]),
       fmt=st.sampled_from(["json", "yaml"]))
def test_policy_with_one_field_broken_names_that_field(path, bad, fmt):
    doc = replace_at(VALID_POLICY, path, bad)
    data = to_json_bytes(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True).encode()
    with scratch_file(f"policy.{fmt}", data) as file, pytest.raises(ConfigError) as caught:
        load_policy(file)
    field = dotted(path[:-1]) if isinstance(path[-1], int) else dotted(path)  # a bad list item names its list
    assert field in str(caught.value), str(caught.value)


@FUZZ
@given(data=st.data())
def test_policy_missing_or_extra_key_is_named(data):
    doc = json.loads(json.dumps(VALID_POLICY))
    required = [p for p in leaf_paths(doc) if not isinstance(p[-1], int) and p[-1] not in OPTIONAL_POLICY_KEYS]
    path = data.draw(st.sampled_from(required))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()):
        del parent[path[-1]]
        named = dotted(path)
    else:
        parent["colour"] = "teal"
        named = dotted((*path[:-1], "colour"))
    with pytest.raises(ValidationError) as caught:
        PolicyFile.model_validate(doc)
    assert named in {dotted(e["loc"]) for e in caught.value.errors()}


# --- the roster file --------------------------------------------------------------------------------

staff_entries = st.fixed_dictionaries({"id": st.sampled_from(["s1", "s2", "s3", "b1"]), "name": ids(),
                                       "role": st.sampled_from(["sales", "after_sales", "employee", "bot", "boss"])})
room_entries = st.fixed_dictionaries({"id": ids(12), "owner": st.none() | st.sampled_from(["s1", "s2", "s3", "x"]),
                                      "stage": st.sampled_from(["pre_sales", "after_sales", "mid_sales"])})


@FUZZ
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"staff": st.lists(staff_entries, max_size=4),
                                                         "rooms": st.lists(room_entries, max_size=4)})))
def test_roster_loads_consistently_or_names_what_is_wrong(doc):
    try:
        roster = RosterFile.model_validate(doc).to_roster()
    except ValidationError as e:
        for err in e.errors():
            # A field's location; or the whole document is not a mapping; or our cross-field checks, which
            # carry no location of their own and name the entry in the message: "rooms[2].owner: ...".
            assert err["loc"] or err["type"] == "model_type" or re.search(
                r"(staff|rooms)\[\d+\]\.(id|owner): ", err["msg"]), err
    else:
        owners = {s.id for s in roster.owners()}
        assert all(room.owner is None or room.owner in owners for room in roster.rooms.values())


@FUZZ
@given(path=st.sampled_from(list(leaf_paths(VALID_ROSTER))), bad=st.sampled_from(BREAKERS))
def test_roster_with_one_field_broken_names_that_field(path, bad):
    doc = replace_at(VALID_ROSTER, path, bad)
    with scratch_file("roster.json", to_json_bytes(doc)) as file, pytest.raises(ConfigError) as caught:
        load_roster_file(file)
    assert dotted(path) in str(caught.value), str(caught.value)


# --- settings: the config file and the environment ---------------------------------------------------


@FUZZ
@given(doc=st.dictionaries(st.sampled_from(sorted(Settings.model_fields)), json_values, max_size=5))
def test_settings_from_an_arbitrary_config_file_load_or_name_the_field(doc):
    with scratch_file("app.json", to_json_bytes(doc)) as file, only_env(SA_CONFIG=str(file)):
        try:
            load_settings()
        except ConfigError as e:
            assert str(e).startswith(str(file))
            assert any(name in str(e) for name in doc), str(e)


@FUZZ
@given(path=st.sampled_from(list(leaf_paths(VALID_CONFIG))), bad=st.sampled_from(BREAKERS))
def test_settings_with_one_field_broken_name_that_field(path, bad):
    good = yaml.safe_dump(VALID_CONFIG, allow_unicode=True).encode()
    with scratch_file("app.yaml", good) as file, only_env(SA_CONFIG=str(file)):
        assert load_settings().sinks == ["console", "jsonl"]  # the base document is valid
    bad_doc = yaml.safe_dump(replace_at(VALID_CONFIG, path, bad), allow_unicode=True).encode()
    with scratch_file("app.yaml", bad_doc) as file, only_env(SA_CONFIG=str(file)), pytest.raises(ConfigError) as caught:
        load_settings()
    field = dotted(path[:-1]) if isinstance(path[-1], int) else dotted(path)
    assert field in str(caught.value), str(caught.value)


ENV_FIELDS = {"SA_SHARDS": "shards", "SA_SINKS": "sinks", "SA_HTTP__PORT": "http", "SA_HTTP": "http",
              "SA_LARK__PUBLIC_CHATS": "lark", "SA_NLP__DOMAIN_WORDS": "nlp", "SA_MAX_BACKLOG": "max_backlog",
              "SA_LANG": "lang", "SA_NAMESPACE": "namespace", "SA_HTTP__RATE_PER_TOKEN_PER_S": "http"}
env_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@FUZZ
@given(var=st.sampled_from(sorted(ENV_FIELDS)),
       value=st.one_of(env_text, json_values.map(json.dumps).filter(lambda s: "\x00" not in s and "\\u0000" not in s)))
@example(var="SA_SINKS", value="console,lark")  # not JSON: pydantic-settings' own error used to escape
@example(var="SA_LARK__PUBLIC_CHATS", value="{")
def test_settings_from_any_environment_value_load_or_name_the_field(var, value):
    with only_env(SA_CONFIG="/dev/null", **{var: value}):
        try:
            load_settings()
        except ConfigError as e:
            assert ENV_FIELDS[var] in str(e), str(e)


# --- the replay reader ------------------------------------------------------------------------------

broken_lines = st.tuples(wechaty_messages(), st.sampled_from(sorted(BROKEN_MESSAGE_FIELDS))).flatmap(
    lambda t: st.sampled_from(BROKEN_MESSAGE_FIELDS[t[1]]).map(
        lambda bad: ("bad", t[1], orjson.dumps({**t[0], t[1]: bad}))))
line_kinds = st.one_of(
    wechaty_messages().map(lambda m: ("ok", orjson.dumps(m))),
    st.fixed_dictionaries({"action": st.just("cancel"), "roomId": ids(), "by": ids(),
                           "timestamp": st.integers(946_684_800_001, 4_102_444_799_999)}).map(
        lambda c: ("ok", orjson.dumps(c))),
    broken_lines,
    json_values.map(lambda v: ("any", to_json_bytes(v))),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b).map(lambda b: ("any", b)),
    st.just(("bad", "longer than", b"x" * (MAX_LINE_BYTES + 1))),
)


def named_fields(error: str) -> set[str]:
    """'line 3: timestamp: ...; mentionIdList.0: ...' -> {'timestamp', 'mentionIdList'}"""
    return {part.split(":")[0].split(".")[0] for part in error.split(": ", 1)[1].split("; ")}


@FUZZ
@given(lines=st.lists(line_kinds, max_size=12))
def test_replay_reader_keeps_every_valid_line_and_names_every_bad_one(lines):
    raw = [line[-1] for line in lines]
    with scratch_file("messages.jsonl", b"\n".join(raw) + b"\n") as file:
        result = read_replay(file)
    counted = [n for n, body in enumerate(raw, start=1) if body.strip()]
    bad_lines = [int(e.split(":")[0].removeprefix("line ")) for e in result.errors]
    assert len(result.items) + len(result.errors) == len(counted)  # nothing lost, nothing half-applied
    assert all(lines[n - 1][0] != "ok" for n in bad_lines)
    for n, line in enumerate(lines, start=1):
        if line[0] == "bad":
            (error,) = [e for e in result.errors if e.startswith(f"line {n}: ")]
            assert line[1] in error if line[1] == "longer than" else line[1] in named_fields(error), error
    assert all(isinstance(i, (Message, CancelClock)) for i in result.items)
    assert [i.ts for i in result.items] == sorted(i.ts for i in result.items)


@settings(deadline=None, max_examples=30)
@given(messages=st.lists(wechaty_messages(), min_size=1, max_size=5))
def test_replay_reader_keeps_text_exactly(messages):
    with scratch_file("messages.jsonl", b"\n".join(orjson.dumps(m) for m in messages)) as file:
        result = read_replay(file)
    assert result.errors == []
    assert sorted((m.id, m.text, m.ts) for m in result.items) == sorted(
        (m["id"], m["text"], m["timestamp"]) for m in messages)


def test_replay_with_unicode_and_nul_everywhere(tmp_path):
    file = tmp_path / "m.jsonl"
    msg = {"id": "m\x001", "roomId": "R:群1", "fromId": "👨‍👩‍👧\u202e", "text": "好的\x00👌", "timestamp": 1_795_136_400_000,
           "type": 7}
    file.write_bytes(orjson.dumps(msg) + b"\n\n  \n" + b'{"id": "\\ud800", "roomId": "R", "fromId": "c", '
                                                          b'"timestamp": 1795136400000, "type": 7}\n')
    result = read_replay(file)
    assert [m.text for m in result.items] == ["好的\x00👌"]
    assert result.errors == [result.errors[0]] and result.errors[0].startswith("line 4: not valid JSON")  # lone surrogate

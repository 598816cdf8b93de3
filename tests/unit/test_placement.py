"""Where the shard actors go: settings `placement` and `shard_labels` (actors/pipeline.py: shard_placement).

The two-node cluster itself is in tests/integration/test_scale_out.py; here only the choice."""
from __future__ import annotations

import pytest

from sales_assistant.actors.pipeline import misplaced, shard_placement
from sales_assistant.config.settings import ConfigError, load_settings

A, B, C = "aa" * 28, "bb" * 28, "00" * 28  # Ray node ids: 28 bytes in hex
HEAD = {"NodeID": A, "Alive": True, "Labels": {}}
ROOMS = {"NodeID": B, "Alive": True, "Labels": {"rooms": "yes"}}
DEAD = {"NodeID": C, "Alive": False, "Labels": {"rooms": "yes"}}


def nodes_of(options: list[dict]) -> list[str]:
    assert all(o["scheduling_strategy"].soft for o in options)  # a dead node's shards restart elsewhere
    return [o["scheduling_strategy"].node_id for o in options]


def test_spread_is_the_default_and_takes_the_nodes_in_turn():
    assert nodes_of(shard_placement(load_settings(shards=5), A, [HEAD, ROOMS])) == [A, B, A, B, A]


def test_pack_goes_to_the_drivers_node():
    assert nodes_of(shard_placement(load_settings(placement="pack", shards=3), B, [HEAD, ROOMS])) == [B, B, B]


def test_labels_narrow_both_and_pack_skips_a_driver_node_without_them():
    settings = load_settings(placement="pack", shard_labels={"rooms": "yes"})
    options = shard_placement(settings, A, [DEAD, HEAD, ROOMS])
    assert all(o["label_selector"] == {"rooms": "yes"} for o in options) and set(nodes_of(options)) == {B}
    spread = shard_placement(settings.model_copy(update={"placement": "spread"}), A, [DEAD, HEAD, ROOMS])
    assert nodes_of(spread) == [B, B] and all(o["label_selector"] == {"rooms": "yes"} for o in spread)


def test_labels_no_alive_node_has_stop_the_start_with_the_command_to_fix_it():
    with pytest.raises(RuntimeError, match="ray start --labels rooms=yes"):
        shard_placement(load_settings(shard_labels={"rooms": "yes"}), A, [HEAD, DEAD])


def test_a_bad_placement_is_named(monkeypatch):
    monkeypatch.setenv("SA_PLACEMENT", "everywhere")
    with pytest.raises(ConfigError, match="placement"):
        load_settings()


def test_a_shard_off_its_alive_node_is_misplaced_and_one_whose_node_died_is_not():
    placement = shard_placement(load_settings(shards=4), A, [HEAD, ROOMS])  # A, B, A, B
    assert misplaced(placement, [A, B, A, B], {A, B}) == []
    assert misplaced(placement, [A, A, A, A], {A, B}) == [1, 3]  # the collapse Ray's soft affinity allows
    assert misplaced(placement, [A, A, A, A], {A}) == []  # B is gone: elsewhere is right

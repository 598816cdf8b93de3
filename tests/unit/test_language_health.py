"""The rules behind "are the language checks keeping up?", and where the check actors go on a cluster."""
from __future__ import annotations

from sales_assistant.actors.pipeline import check_placement
from sales_assistant.policies.language_health import (
    FALLBACK_WINDOW_MIN,
    CheckBacklog,
    Fallbacks,
    checks_behind,
    fallback_rate,
    fallback_rate_high,
)


def test_the_checks_are_behind_only_past_the_setting():
    assert not checks_behind(CheckBacklog(0, 0, None), 60)
    assert not checks_behind(CheckBacklog(500, 3, 60.0), 60)
    assert checks_behind(CheckBacklog(1, 1, 60.5), 60)


def test_the_fallback_rate_is_a_mean_over_the_window_and_high_only_above_the_setting():
    assert FALLBACK_WINDOW_MIN == 5
    assert fallback_rate([0, 0, 10]) == 2.0  # minutes without a counter count as none
    assert not fallback_rate_high(Fallbacks(100, 10, 1.0), 1.0)
    assert fallback_rate_high(Fallbacks(100, 10, 1.2), 1.0)
    assert fallback_rate_high(Fallbacks(1, 1, 0.2), 0)  # 0: any fallback is worth a banner


def test_check_actors_go_over_the_alive_nodes_in_turn():
    a, b, c = ("a" * 56, "b" * 56, "c" * 56)  # node ids as Ray writes them: 28 bytes in hex
    nodes = [{"NodeID": b, "Alive": True}, {"NodeID": a, "Alive": True}, {"NodeID": c, "Alive": False}]
    placed = [o["scheduling_strategy"] for o in check_placement(5, nodes)]
    assert [s.node_id for s in placed] == [a, b, a, b, a]
    assert all(s.soft for s in placed)  # a dead node's actor is restarted elsewhere

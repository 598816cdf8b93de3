"""Alert levels (core/levels.py): the one home of a level's order, colour and labels."""
from sales_assistant.core import levels
from sales_assistant.core.levels import LEVELS, ORDER, Level


def test_order_is_the_ladder_and_every_level_is_described_once():
    assert [lv.value for lv in ORDER] == ["green", "yellow", "orange", "red", "purple", "grey"]
    assert [LEVELS[lv].rank for lv in ORDER] == list(range(len(ORDER)))
    assert len({info.colour for info in LEVELS.values()}) == len({info.zh for info in LEVELS.values()}) == len(ORDER)
    assert len({info.web for info in LEVELS.values()}) == len(ORDER)  # each badge tells its level apart


def test_unknown_or_missing_levels_rank_lowest_and_show_loud():
    assert levels.rank(None) == levels.rank("pink") == -1 < levels.rank("green") == 0
    assert levels.higher("pink", "green") == "green" and levels.higher("red", "red") == "red"
    assert levels.highest(["yellow", None, "purple", "red"]) == "purple" and levels.highest([]) is None
    assert levels.colour("pink") == levels.colour(None) == "red" and levels.colour(Level.GREY) == "grey"


def test_labels_in_both_languages():
    assert (levels.label("red", "zh"), levels.label(Level.RED, "en")) == ("红色", "red")
    assert levels.label("pink", "zh") == "pink"

"""Alert levels: the one home of a level's order, colour and zh/en labels.

A wait climbs the ladder green → yellow → orange → red → purple, then repeats in grey. Everything that
compares, colours or names a level (the ladder, backlog folding, priority, the Lark card, the console,
the dashboard) reads it here, so adding or renaming a level is one edit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Level(str, Enum):
    """In ladder order: a later member is a more urgent alert."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"
    PURPLE = "purple"
    GREY = "grey"  # the repeats after purple


@dataclass(frozen=True, slots=True)
class LevelInfo:
    rank: int  # 0 for green; higher is more urgent
    colour: str  # a Lark card header template, named after the level
    terminal: str  # a rich colour for the console
    web: str  # the dashboard badge's background (web/pages.py serves it as /levels.css)
    zh: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


LEVELS: dict[Level, LevelInfo] = {
    Level.GREEN: LevelInfo(0, "green", "green", "#00b42a", "绿色", "green"),
    Level.YELLOW: LevelInfo(1, "yellow", "yellow", "#ff9a2e", "黄色", "yellow"),
    Level.ORANGE: LevelInfo(2, "orange", "dark_orange", "#ff7d00", "橙色", "orange"),
    Level.RED: LevelInfo(3, "red", "red", "#f53f3f", "红色", "red"),
    Level.PURPLE: LevelInfo(4, "purple", "magenta", "#722ed1", "紫色", "purple"),
    Level.GREY: LevelInfo(5, "grey", "grey50", "#86909c", "灰色", "grey"),
}
ORDER: tuple[Level, ...] = tuple(Level)
UNKNOWN_COLOUR = "red"  # a level this build does not know is shown loud, never hidden


def parse(level: object) -> Level | None:
    """The Level named by `level` (a Level or its value), or None for anything else."""
    try:
        return Level(level)
    except ValueError:
        return None


def rank(level: object) -> int:
    """The level's place in the ladder; -1 for None or an unknown name, below every level."""
    known = parse(level)
    return -1 if known is None else LEVELS[known].rank


def higher(a: str | None, b: str | None) -> str | None:
    """The more urgent of two levels (`a` on a tie); unknown names rank lowest."""
    return a if rank(a) >= rank(b) else b


def highest(levels: Iterable[str | None]) -> str | None:
    """The most urgent of `levels`, the first on a tie; None when it is empty."""
    top: str | None = None
    for i, level in enumerate(levels):
        top = level if i == 0 else higher(top, level)
    return top


def colour(level: object) -> str:
    known = parse(level)
    return UNKNOWN_COLOUR if known is None else LEVELS[known].colour


def label(level: object, lang: str) -> str:
    """'红色' / 'red'; an unknown level shows its raw name."""
    known = parse(level)
    return str(level) if known is None else LEVELS[known].label(lang)

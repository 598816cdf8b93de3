"""Logging: one JSON object per line for the service, quiet human output for the demo."""
from __future__ import annotations

import logging
import sys

import orjson

from sales_assistant.connectors.console import printable


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                 "logger": record.name, "event": record.getMessage()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class Plain(logging.Formatter):
    """One line per record for a terminal: what a message quotes (a customer's text, an id) cannot
    colour the terminal or forge a second log line (connectors.console.printable)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def setup(json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if json_lines else Plain("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

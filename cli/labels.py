"""`sales-assistant export-labels`: the closing labels people gave by cancelling and restarting clocks, as
training data for the closing model (`python -m sales_assistant.models.lab.closing.train --extra FILE`)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from sales_assistant.cli import bootstrap
from sales_assistant.cli.terminal import config_or_exit, console, fail


def export_labels(
    out: Annotated[Path | None, typer.Option(help="write the JSONL here (default: standard output)")] = None,
    since: Annotated[str | None, typer.Option(help="only orders from this day on, YYYY-MM-DD (the service's time zone)")]
    = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Closing labels from cancels (1: the message needed no answer) and restarts (0: it needed one), one
    JSON line each: text, label, room_id, source, at; one per message, the latest order's.

    An administrator's command, straight on the service's Redis: it exports every room's labels. A rep
    gets their own rooms' only, from the API (GET /api/labels)."""
    import orjson

    from sales_assistant.core.room import last_word
    from sales_assistant.core.timeutil import day_start
    from sales_assistant.store.keys import Keys
    from sales_assistant.store.labels import load_corrections

    settings = config_or_exit(data_dir=data_dir).settings
    try:
        since_ms = day_start(date.fromisoformat(since), settings.timezone) if since else None
    except ValueError as e:
        fail(f"--since: {e}")
    labels = last_word(load_corrections(bootstrap.open_redis(settings), Keys(settings.namespace), since_ms))
    body = b"".join(orjson.dumps(c.training_row()) + b"\n" for c in labels)
    if out is None:
        sys.stdout.buffer.write(body)
        return
    out.write_bytes(body)
    closing = sum(c.label for c in labels)
    console.print(f"[green]✓[/green] {out}: {len(labels)} 条标注 / labels ({closing} 结束语 closing, "
                  f"{len(labels) - closing} 需回复 needs an answer)")

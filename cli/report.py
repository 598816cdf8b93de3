"""`sales-assistant report`: the three metric views for today or a date range, from the service's Redis."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from sales_assistant.cli import bootstrap
from sales_assistant.cli.terminal import config_or_exit, console, fail


def report(
    start: Annotated[str | None, typer.Option("--from", help="first day YYYY-MM-DD (default: today)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day YYYY-MM-DD (default: --from)")] = None,
    out: Annotated[Path | None, typer.Option(help="write the JSON report here instead of printing tables")] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
    lang: Annotated[str | None, typer.Option(help="zh | en")] = None,
) -> None:
    """The three metric views (per sales, per room, per episode) for today or a date range."""
    import time

    from sales_assistant.connectors.console import metric_tables
    from sales_assistant.core.timeutil import today
    from sales_assistant.store.keys import Keys
    from sales_assistant.store.report import build_report

    config = config_or_exit(data_dir=data_dir, lang=lang)
    settings = config.settings
    try:
        first = date.fromisoformat(start) if start else today(int(time.time() * 1000), settings.timezone)
        last = date.fromisoformat(end) if end else first
    except ValueError as e:
        fail(f"--from/--to: {e}")
    if last < first:
        fail("--to: the range ends before it starts")
    result = build_report(bootstrap.open_redis(settings), Keys(settings.namespace), first, last, settings.timezone,
                          settings.over_threshold_minutes, policy=config.policy)
    if out:
        out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        console.print(f"[green]✓[/green] {out}")
        return
    for t in metric_tables(result, settings.lang, episode_limit=None):
        console.print(t)

"""`sales-assistant run` (the live service) and `cancel` (an order to the running service over HTTP)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from sales_assistant.cli import bootstrap, logs
from sales_assistant.cli.terminal import config_or_exit, console, exit_on_signals, fail


def run(
    clock: Annotated[str, typer.Option(
        help="wall (live) | virtual (time advances only by POST /api/clock/tick)")] = "wall",
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """The live service: webhook ingestion, wall-clock ticks, notifier. Ctrl-C or SIGTERM stops it, and
    the embedded Redis it runs on with it."""
    import uvicorn

    from sales_assistant.config.settings import ConfigError
    from sales_assistant.models.lm import CorpusUnavailable
    from sales_assistant.store.redis import stopped_after

    logs.setup(json_lines=True)
    log = logging.getLogger("sales_assistant.run")
    exit_on_signals(serving=True)
    config = config_or_exit(data_dir=data_dir)
    if clock not in ("wall", "virtual"):
        fail("--clock: wall or virtual")
    s = config.settings
    with stopped_after(None if s.redis_url else s.data_dir):
        try:
            pipeline, app = bootstrap.start_service(config, clock)
        except ConfigError as e:
            fail(str(e))
        except CorpusUnavailable as e:
            fail(f"语言模型无法构建 / cannot build the language model: {e}")
        h, p = host or s.http.host, port if port is not None else s.http.port
        log.info("serving on http://%s:%s (clock=%s, shards=%s, redis=%s)", h, p, clock, s.shards,
                 "external" if s.redis_url else "embedded")
        exit_on_signals(serving=True)  # again: Ray's start put its own in place
        try:
            uvicorn.run(app, host=h, port=p, log_config=None, access_log=False)
        finally:
            pipeline.stop()
            log.info("stopped")


def cancel(
    room_id: Annotated[str, typer.Argument(help="the room whose running clock to cancel")],
    by: Annotated[str, typer.Option(help="who cancels (recorded with the episode)")],
    reason: Annotated[str, typer.Option()] = "",
    url: Annotated[str, typer.Option(help="the running service")] = "http://127.0.0.1:8000",
) -> None:
    """Cancel a room's running clock on the running service (needs SA_API_TOKEN)."""
    import httpx

    token = os.environ.get("SA_API_TOKEN")
    if not token:
        fail("SA_API_TOKEN is not set")
    try:
        resp = httpx.post(f"{url}/api/rooms/{room_id}/cancel", json={"by": by, "reason": reason},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as e:
        fail(f"cannot reach {url}: {e}")
    if resp.status_code != 202:
        fail(f"{resp.status_code}: {resp.text}")
    console.print(f"[green]✓[/green] 已取消计时 / clock cancelled: {room_id}")

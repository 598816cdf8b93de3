"""`sales-assistant demo`: the bundled demo day through the real pipeline, then the dashboard on it.

Served, the day is moved onto today's local date at the same times of day (core/timeutil.onto_local_day):
what lies before now is replayed at once, and the rest arrives live (cli/demo_feed.py) while the dashboard
runs, so clocks tick and alerts fire in front of you. Started before the day's first message (early in
the morning), it is yesterday's day, all of it past. The start-up output says which day was replayed.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Annotated

import typer

from sales_assistant.cli import bootstrap, logs
from sales_assistant.cli.replay import read_inputs, replay_file, run_replay, write_report
from sales_assistant.cli.terminal import config_or_exit, console, exit_on_signals
from sales_assistant.config.settings import CONFIG_DIR

DEMO_DIR = CONFIG_DIR / "demo"
DEMO_DAY_END = "2026-11-20T23:59:00+08:00"


def demo(
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    data_dir: Annotated[Path, typer.Option(help="where the demo keeps its Redis data")] = Path(".data/demo"),
    serve: Annotated[bool, typer.Option(help="then serve the dashboard on the live demo (Ctrl-C stops)")] = True,
    port: Annotated[int, typer.Option(help="dashboard port")] = 8000,
) -> None:
    """The bundled demo day through the real pipeline: alerts as they fire, the metric tables, then
    the dashboard, with the day's afternoon still arriving live."""
    from sales_assistant.store.redis import stop_embedded, stopped_after

    logs.setup(json_lines=False, level=logging.WARNING)
    exit_on_signals(serving=serve)
    stop_embedded(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)  # a demo starts from a clean slate every time
    config = config_or_exit(data_dir=data_dir, lang=lang, http={"api_docs": True})  # the demo shows its API
    with stopped_after(None if config.settings.redis_url else data_dir):
        if not serve:
            console.rule("[bold]销售助理 · 演示日 2026-11-20[/bold]" if lang == "zh"
                         else "[bold]Sales Assistant · demo day[/bold]")
            result = replay_file(config, DEMO_DIR / "messages.jsonl", DEMO_DIR / "roster.json", DEMO_DAY_END,
                                 data_dir / "report.json", follow_alerts=True, chunk=50)
            print_summary(result, config, data_dir)
            return
        serve_demo(config, data_dir, port)


def print_summary(result: dict, config: bootstrap.Config, data_dir: Path) -> None:
    from sales_assistant.connectors.console import metric_tables

    settings = config.settings
    for t in metric_tables(result, settings.lang):
        console.print(t)
    by_level: dict[str, int] = {}
    for a in result["alerts"]:
        by_level[a["level"]] = by_level.get(a["level"], 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in by_level.items())
    console.print(("警报: " if settings.lang == "zh" else "alerts: ") + counts)
    console.print(f"报告 report: {data_dir / 'report.json'} · 警报文件 alerts: {settings.alerts_path()}")


def replayed_day_line(recorded: str, first: str, last_past: str, live: int, lang: str) -> str:
    """Which day the served demo shows: the recorded day, moved onto a local date, and what comes live."""
    day, start, until = first[:10], first[11:16], last_past[11:16]
    if lang == "zh":
        rest = f"其余 {live} 条消息将按时实时到达" if live else "这一天的消息已全部回放"
        return f"演示日 {recorded[:10]} 的消息按本地日期 {day} 的同一时刻回放：{start}–{until} 已回放，{rest}。"
    rest = f"the other {live} messages arrive live, on time" if live else "the whole day is replayed"
    return f"The demo day {recorded[:10]} is replayed on {day} at the same local times: {start}–{until} replayed, {rest}."


def serve_demo(config: bootstrap.Config, data_dir: Path, port: int) -> None:
    """The morning replayed at once, two demo accounts, then the dashboard while the afternoon arrives."""
    import secrets
    import time

    import uvicorn

    from sales_assistant.cli.demo_feed import DemoFeed
    from sales_assistant.core.timeutil import iso, onto_local_day
    from sales_assistant.policies.access import UserRole

    settings = config.settings
    data, roster = read_inputs(DEMO_DIR / "messages.jsonl", DEMO_DIR / "roster.json")
    now = int(time.time() * 1000)
    shift = onto_local_day(data.items[0].ts, now, settings.timezone)
    items = [i._replace(ts=i.ts + shift) for i in data.items]
    past, future = [i for i in items if i.ts <= now], [i for i in items if i.ts > now]
    console.rule("[bold]销售助理 · 演示[/bold]" if settings.lang == "zh" else "[bold]Sales Assistant · demo[/bold]")
    console.print(replayed_day_line(iso(data.items[0].ts, settings.timezone), iso(items[0].ts, settings.timezone),
                                    iso(past[-1].ts, settings.timezone), len(future), settings.lang))
    pipeline, follower = run_replay(config, past, roster, now, follow_alerts=True, chunk=50)
    print_summary(write_report(pipeline, settings, past[0].ts, now, data.errors, data_dir / "report.json", now),
                  config, data_dir)

    # The feed, not HTTP ticks, moves the demo's virtual time along the wall clock the dashboard reads.
    app = bootstrap.build_app(config, pipeline, http_ticks=False, card_buttons=False)
    accounts = app.state.services.accounts
    # Each account its own password: whoever is given the rep's cannot log in as the manager.
    manager_password, rep_password = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    accounts.create("demo", manager_password, UserRole.MANAGER, "演示经理 Demo manager")
    rep = next(s for s in roster.owners())
    accounts.create("rep", rep_password, UserRole.SALES, rep.name, rep.id)
    url = f"http://{settings.http.host}:{port}"
    console.print(f"\n[bold green]仪表盘 Dashboard: {url}[/bold green]  "
                  f"登录 log in: [bold]demo[/bold] / [bold]{manager_password}[/bold]（经理 manager）· "
                  f"[bold]rep[/bold] / [bold]{rep_password}[/bold]（销售 {rep.name}）· "
                  f"API: {url}/docs · Ctrl-C 退出 quits")
    exit_on_signals(serving=True)  # again: Ray's start put its own in place
    try:
        with DemoFeed(pipeline, future, follower.show):
            uvicorn.run(app, host=settings.http.host, port=port, log_level="warning")
    finally:
        pipeline.stop()

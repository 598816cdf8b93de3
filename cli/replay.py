"""`sales-assistant replay`: a message file through the real pipeline in virtual time, then the report.

The steps (read the inputs, run the pipeline with alerts printed as they fire, write the report) are
also the demo's (cli/demo.py), so they live here as functions of their own.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from sales_assistant.cli import bootstrap, logs
from sales_assistant.cli.terminal import config_or_exit, console, err, exit_on_signals, fail
from sales_assistant.config.settings import ConfigError, Settings, load_roster_file

if TYPE_CHECKING:
    from sales_assistant.actors.pipeline import Pipeline
    from sales_assistant.connectors.replay import ReplayFile
    from sales_assistant.core.roster import Roster


def read_inputs(file: Path, roster_path: Path) -> tuple[ReplayFile, Roster]:
    """The replayable lines of `file` (the rejected ones shown) and the roster; stops on either being unusable."""
    from sales_assistant.connectors.replay import read_replay

    try:
        roster = load_roster_file(roster_path).to_roster()
    except ConfigError as e:
        fail(str(e))
    if not file.is_file():
        fail(f"{file}: no such file")
    data = read_replay(file)
    for line in data.errors[:20]:
        err.print(f"[yellow]skipped {file.name} {line}[/yellow]")
    if len(data.errors) > 20:
        err.print(f"[yellow]… and {len(data.errors) - 20} more invalid lines[/yellow]")
    if not data.items:
        fail(f"{file}: no valid messages to replay")
    return data, roster


class Follower:
    """Prints alerts and wording suggestions as they land in Redis."""

    def __init__(self, pipeline: Pipeline, settings: Settings, out: Console) -> None:
        from sales_assistant.store.state import load_roster

        self.pipeline, self.settings, self.out = pipeline, settings, out
        self.names = load_roster(pipeline.r, pipeline.keys).staff
        self.cursors = {"alerts": "0", "suggestions": "0", "followups": "0"}

    def show(self) -> None:
        from sales_assistant.connectors.console import alert_line, followup_line, suggestion_line
        from sales_assistant.store.state import entries_after

        p, s = self.pipeline, self.settings
        fired, self.cursors["alerts"] = entries_after(p.r, p.keys.alerts, self.cursors["alerts"])
        for alert in sorted(fired, key=lambda a: a["at"]):
            owner = self.names.get(alert.get("owner_id") or "")
            self.out.print(alert_line({**alert, "owner_name": owner.name if owner else None}, s.lang, s.timezone))
        followups, self.cursors["followups"] = entries_after(p.r, p.keys.followups, self.cursors["followups"])
        for followup in sorted(followups, key=lambda f: f["at"]):
            owner = self.names.get(followup.get("owner_id") or "")
            self.out.print(followup_line({**followup, "owner_name": owner.name if owner else None}, s.lang, s.timezone))
        tips, self.cursors["suggestions"] = entries_after(p.r, p.keys.suggestions, self.cursors["suggestions"])
        for tip in tips:
            self.out.print(suggestion_line(tip, s.lang))


def run_replay(config: bootstrap.Config, items: list, roster: Roster, until_ms: int | None, follow_alerts: bool,
               chunk: int) -> tuple[Pipeline, Follower]:
    """Start the real pipeline in virtual time and feed it `items`; returns it still running."""
    from sales_assistant.actors.notifier import SinkSpec
    from sales_assistant.models.lm import CorpusUnavailable

    settings = config.settings
    try:
        bootstrap.prepare_models(settings)
    except CorpusUnavailable as e:
        fail(f"语言模型无法构建 / cannot build the language model: {e}")
    pipeline = bootstrap.build_pipeline(config, "virtual", [SinkSpec("jsonl", path=str(settings.alerts_path()),
                                                                       lang=settings.lang, tz=settings.timezone)])
    pipeline.load_roster(roster, overwrite_rooms=True)
    with console.status("启动 Ray 与 Redis … / starting Ray and Redis …"):
        pipeline.start(log_to_driver=False)
    with Progress(TextColumn("[bold]回放 replay[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        follower = Follower(pipeline, settings, progress.console)
        task = progress.add_task("replay", total=len(items))

        def after_chunk(done: int) -> None:
            progress.update(task, completed=done)
            if follow_alerts:
                follower.show()

        pipeline.replay(items, chunk, after_chunk)
        if until_ms is not None:
            pipeline.advance(until_ms)
        if follow_alerts:
            follower.show()
    if not pipeline.wait_delivered(120):
        err.print("[yellow]some alerts or checks were not finished within 120 s[/yellow]")
    if follow_alerts:
        follower.show()  # the staff checks run at their own pace: their last suggestions
    return pipeline, follower


def write_report(pipeline: Pipeline, settings: Settings, first_ms: int, end_ms: int, errors: list,
                 report_path: Path | None, now_ms: int | None = None) -> dict:
    from sales_assistant.core.timeutil import today

    report = pipeline.report(today(first_ms, settings.timezone), today(end_ms, settings.timezone), now_ms)
    report["rejected_lines"] = errors
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        with open(report_path, "wb", opener=lambda path, flags: os.open(path, flags, 0o600)) as f:
            f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))  # what customers wrote: 0600
    return report


def replay_file(config: bootstrap.Config, file: Path, roster_path: Path, until: str | None, report_path: Path | None,
                follow_alerts: bool, chunk: int) -> dict:
    """The whole replay: inputs, pipeline, report; the pipeline is stopped at the end."""
    from sales_assistant.core.timeutil import parse_iso

    data, roster = read_inputs(file, roster_path)
    try:
        bootstrap.check_calendar_teams(config, roster)
    except ConfigError as e:
        fail(str(e))
    until_ms = None
    if until:
        try:
            until_ms = parse_iso(until, config.settings.timezone)
        except ValueError:
            fail(f"--until: {until!r} is not an ISO-8601 time (e.g. 2026-11-20T23:59:00+08:00)")
    pipeline, _ = run_replay(config, data.items, roster, until_ms, follow_alerts, chunk)
    report = write_report(pipeline, config.settings, data.items[0].ts, max(until_ms or 0, data.items[-1].ts),
                          data.errors, report_path)
    pipeline.stop()
    return report


def replay(
    file: Annotated[Path, typer.Argument(help="messages, one Wechaty JSON object per line")],
    roster: Annotated[Path, typer.Option(help="roster JSON: staff and rooms")],
    report: Annotated[Path, typer.Option(help="where to write the report JSON")],
    policy: Annotated[Path | None, typer.Option(help="escalation policy (JSON or YAML)")] = None,
    until: Annotated[str | None, typer.Option(
        help="advance virtual time to this ISO-8601 moment at the end")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="keep Redis data here (default: a fresh temporary dir)")] = None,
    shards: Annotated[int | None, typer.Option(help="room shard actors")] = None,
    quiet: Annotated[bool, typer.Option(help="do not print alerts as they fire")] = False,
) -> None:
    """Replay a message file through the real pipeline in virtual time and write the report. The embedded
    Redis it starts is stopped when it ends; with --data-dir its data stays there for the next run."""
    import tempfile

    from sales_assistant.store.redis import stopped_after

    logs.setup(json_lines=False, level=logging.WARNING)
    exit_on_signals(serving=False)
    tmp = None if data_dir else Path(tempfile.mkdtemp(prefix="sa-replay-"))
    config = config_or_exit(data_dir=data_dir or tmp, policy_file=policy, shards=shards)
    s = config.settings
    try:
        with stopped_after(None if s.redis_url else s.data_dir):
            result = replay_file(config, file, roster, until, report, follow_alerts=not quiet, chunk=s.batch_size)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    console.print(f"[green]✓[/green] {len(result['episodes'])} episodes, {len(result['alerts'])} alerts, "
                  f"{len(result['followups'])} follow-ups → {report}")

"""`sales-assistant`: demo, replay, run, cancel, report, bench."""
from __future__ import annotations

import logging
import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import doctor, logs
from config.settings import CONFIG_DIR, ConfigError, Settings, load_policy, load_roster_file, load_settings

app = typer.Typer(help="销售助理 Sales Assistant: reply clocks, escalating Lark alerts, reply metrics.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Benchmarks (figures in benchmarks/README.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.command("doctor")(doctor.run)
users_app = typer.Typer(help="Dashboard accounts and API tokens / 账号与 API 令牌", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console()
err = Console(stderr=True)

DEMO_DIR = CONFIG_DIR / "demo"


def _settings(**overrides) -> Settings:
    """Settings and the escalation policy they name, validated before anything starts."""
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
        load_policy(settings.policy_file)
        return settings
    except ConfigError as e:
        err.print(f"[red]配置错误 / configuration error[/red]\n{e}")
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def _prepare_models(settings: Settings) -> None:
    """Build the corpus language model here, with a progress bar, before the NLP actor needs it
    (once: it is cached). Nothing to do when staff checks are off or an LM file is configured."""
    if settings.nlp.check_staff and settings.nlp.lm_path is None:
        from models.lm import CorpusUnavailable, build_lm

        try:
            build_lm(show_progress=True)
        except CorpusUnavailable as e:
            _fail(f"语言模型无法构建 / cannot build the language model: {e}")


def _read_inputs(file: Path, roster_path: Path):
    from connectors.replay import read_replay

    try:
        roster = load_roster_file(roster_path).to_roster()
    except ConfigError as e:
        _fail(str(e))
    if not file.is_file():
        _fail(f"{file}: no such file")
    data = read_replay(file)
    for line in data.errors[:20]:
        err.print(f"[yellow]skipped {file.name} {line}[/yellow]")
    if len(data.errors) > 20:
        err.print(f"[yellow]… and {len(data.errors) - 20} more invalid lines[/yellow]")
    if not data.items:
        _fail(f"{file}: no valid messages to replay")
    return data, roster


class _Follower:
    """Prints alerts and wording suggestions as they land in Redis."""

    def __init__(self, pipeline, settings: Settings, out: Console) -> None:
        from store.state import load_roster

        self.pipeline, self.settings, self.out = pipeline, settings, out
        self.names = load_roster(pipeline.r, pipeline.keys).staff
        self.cursors = {"alerts": "0", "suggestions": "0"}

    def show(self) -> None:
        from connectors.console import alert_line, suggestion_line
        from store.state import entries_after

        p, s = self.pipeline, self.settings
        fired, self.cursors["alerts"] = entries_after(p.r, p.keys.alerts, self.cursors["alerts"])
        for alert in sorted(fired, key=lambda a: a["at"]):
            owner = self.names.get(alert.get("owner_id") or "")
            self.out.print(alert_line({**alert, "owner_name": owner.name if owner else None}, s.lang, s.timezone))
        tips, self.cursors["suggestions"] = entries_after(p.r, p.keys.suggestions, self.cursors["suggestions"])
        for tip in tips:
            self.out.print(suggestion_line(tip, s.lang))


def _replay_items(settings: Settings, items: list, roster, until_ms: int | None, follow_alerts: bool, chunk: int):
    """Start the real pipeline in virtual time and feed it `items`; returns it still running."""
    from actors.notifier import SinkSpec
    from actors.pipeline import Pipeline

    _prepare_models(settings)
    pipeline = Pipeline(settings, "virtual", [SinkSpec("jsonl", path=str(settings.alerts_path()),
                                                       lang=settings.lang, tz=settings.timezone)])
    pipeline.load_roster(roster, overwrite_rooms=True)
    with console.status("启动 Ray 与 Redis … / starting Ray and Redis …"):
        pipeline.start(log_to_driver=False)
    with Progress(TextColumn("[bold]回放 replay[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        follower = _Follower(pipeline, settings, progress.console)
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


def _write_report(pipeline, settings: Settings, first_ms: int, end_ms: int, errors: list, report_path: Path | None,
                  now_ms: int | None = None) -> dict:
    from core.timeutil import today

    report = pipeline.report(today(first_ms, settings.timezone), today(end_ms, settings.timezone), now_ms)
    report["rejected_lines"] = errors
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report


def _replay(settings: Settings, file: Path, roster_path: Path, until: str | None, report_path: Path | None,
            follow_alerts: bool, chunk: int) -> dict:
    from core.timeutil import parse_iso

    data, roster = _read_inputs(file, roster_path)
    until_ms = None
    if until:
        try:
            until_ms = parse_iso(until, settings.timezone)
        except ValueError:
            _fail(f"--until: {until!r} is not an ISO-8601 time (e.g. 2026-11-20T23:59:00+08:00)")
    pipeline, _ = _replay_items(settings, data.items, roster, until_ms, follow_alerts, chunk)
    report = _write_report(pipeline, settings, data.items[0].ts, max(until_ms or 0, data.items[-1].ts), data.errors,
                           report_path)
    pipeline.stop()
    return report


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="messages, one Wechaty JSON object per line")],
    roster: Annotated[Path, typer.Option(help="roster JSON: staff and rooms")],
    report: Annotated[Path, typer.Option(help="where to write the report JSON")],
    policy: Annotated[Optional[Path], typer.Option(help="escalation policy (JSON or YAML)")] = None,
    until: Annotated[Optional[str], typer.Option(help="advance virtual time to this ISO-8601 moment at the end")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="keep Redis data here (default: a fresh temporary dir)")] = None,
    shards: Annotated[Optional[int], typer.Option(help="room shard actors")] = None,
    quiet: Annotated[bool, typer.Option(help="do not print alerts as they fire")] = False,
) -> None:
    """Replay a message file through the real pipeline in virtual time and write the report."""
    import tempfile

    logs.setup(json_lines=False, level=logging.WARNING)
    tmp = None if data_dir else Path(tempfile.mkdtemp(prefix="sa-replay-"))
    settings = _settings(data_dir=data_dir or tmp, policy_file=policy, shards=shards)
    try:
        result = _replay(settings, file, roster, until, report, follow_alerts=not quiet, chunk=settings.batch_size)
    finally:
        if tmp is not None:
            from store.redis import stop_embedded

            stop_embedded(tmp)
            shutil.rmtree(tmp, ignore_errors=True)
    console.print(f"[green]✓[/green] {len(result['episodes'])} episodes, {len(result['alerts'])} alerts → {report}")


@app.command()
def demo(
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    data_dir: Annotated[Path, typer.Option(help="where the demo keeps its Redis data")] = Path(".data/demo"),
    serve: Annotated[bool, typer.Option(help="then serve the dashboard on the live demo (Ctrl-C stops)")] = True,
    port: Annotated[int, typer.Option(help="dashboard port")] = 8000,
) -> None:
    """The bundled demo day through the real pipeline: alerts as they fire, the metric tables, then
    the dashboard, with the day's afternoon still arriving live."""
    from store.redis import stop_embedded

    logs.setup(json_lines=False, level=logging.WARNING)
    stop_embedded(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)  # a demo starts from a clean slate every time
    settings = _settings(data_dir=data_dir, lang=lang, policy_file=None)
    if not serve:
        console.rule("[bold]销售助理 · 演示日 2026-11-20[/bold]" if lang == "zh" else "[bold]Sales Assistant · demo day[/bold]")
        result = _replay(settings, DEMO_DIR / "messages.jsonl", DEMO_DIR / "roster.json", "2026-11-20T23:59:00+08:00",
                         data_dir / "report.json", follow_alerts=True, chunk=50)
        _print_demo_summary(result, settings, data_dir)
        stop_embedded(data_dir)
        return
    _serve_demo(settings, data_dir, port)


DEMO_ANCHOR = "2026-11-20T16:00:00+08:00"  # the demo day's moment that becomes "now" when it is served


def _print_demo_summary(result: dict, settings: Settings, data_dir: Path) -> None:
    from connectors.console import metric_tables

    for t in metric_tables(result, settings.lang):
        console.print(t)
    by_level: dict[str, int] = {}
    for a in result["alerts"]:
        by_level[a["level"]] = by_level.get(a["level"], 0) + 1
    console.print(("警报: " if settings.lang == "zh" else "alerts: ") + ", ".join(f"{k} {v}" for k, v in by_level.items()))
    console.print(f"报告 report: {data_dir / 'report.json'} · 警报文件 alerts: {settings.alerts_path()}")


def _serve_demo(settings: Settings, data_dir: Path, port: int) -> None:
    """Shift the demo day so its 16:00 is now: the morning is replayed at once, the rest arrives
    live at its own pace while the dashboard runs, so clocks tick and alerts fire in front of you."""
    import dataclasses
    import secrets
    import threading
    import time

    import uvicorn

    from core.timeutil import parse_iso
    from policies.access import UserRole
    from store.redis import stop_embedded
    from store.users import Accounts
    from web.app import AppServices, create_app

    data, roster = _read_inputs(DEMO_DIR / "messages.jsonl", DEMO_DIR / "roster.json")
    now = int(time.time() * 1000)
    shift = now - parse_iso(DEMO_ANCHOR, settings.timezone)
    items = [dataclasses.replace(i, ts=i.ts + shift) for i in data.items]
    past, future = [i for i in items if i.ts <= now], [i for i in items if i.ts > now]
    console.rule("[bold]销售助理 · 演示[/bold]" if settings.lang == "zh" else "[bold]Sales Assistant · demo[/bold]")
    pipeline, follower = _replay_items(settings, past, roster, now, follow_alerts=True, chunk=50)
    _print_demo_summary(_write_report(pipeline, settings, past[0].ts, now, data.errors, data_dir / "report.json", now),
                        settings, data_dir)

    accounts = Accounts(pipeline.r, pipeline.keys)
    password = secrets.token_urlsafe(9)
    accounts.create("demo", password, UserRole.MANAGER, "演示经理 Demo manager")
    rep = next(s for s in roster.owners())
    accounts.create("rep", password, UserRole.SALES, rep.name, rep.id)
    url = f"http://{settings.http.host}:{port}"
    console.print(f"\n[bold green]仪表盘 Dashboard: {url}[/bold green]  登录 log in: [bold]demo[/bold] / [bold]{password}[/bold]"
                  f"（经理 manager）· [bold]rep[/bold] / [bold]{password}[/bold]（销售 {rep.name}）· Ctrl-C 退出 quits")

    stopping = threading.Event()

    def feed() -> None:
        # Virtual time that follows the wall clock: the rest of the day arrives on schedule, and the
        # dashboard's own orders (cancel, snooze, take over) are applied within a quarter second.
        while not stopping.wait(0.25):
            try:
                wall = int(time.time() * 1000)
                while future and future[0].ts <= wall:
                    pipeline.push([future.pop(0)])
                pipeline.pump()
                pipeline.advance(wall)
                follower.show()
            except Exception:  # noqa: BLE001 - the demo keeps going through a hiccup
                logging.getLogger("sales_assistant.demo").exception("demo feed step failed")

    feeder = threading.Thread(target=feed, name="demo-feed", daemon=True)
    feeder.start()
    try:
        uvicorn.run(create_app(AppServices(settings, pipeline.inbox, pipeline.keys)), host=settings.http.host,
                    port=port, log_level="warning")
    finally:
        stopping.set()  # the feed must not step a pipeline that is being stopped
        feeder.join(10)
        pipeline.stop()
        stop_embedded(data_dir)


@app.command()
def run(
    clock: Annotated[str, typer.Option(help="wall (live) | virtual (time advances only by POST /api/clock/tick)")] = "wall",
    host: Annotated[Optional[str], typer.Option()] = None,
    port: Annotated[Optional[int], typer.Option()] = None,
    data_dir: Annotated[Optional[Path], typer.Option()] = None,
) -> None:
    """The live service: webhook ingestion, wall-clock ticks, notifier."""
    import uvicorn

    from actors.notifier import sink_specs
    from actors.pipeline import Pipeline
    from web.app import AppServices, create_app

    logs.setup(json_lines=True)
    log = logging.getLogger("sales_assistant.run")
    settings = _settings(data_dir=data_dir)
    if clock not in ("wall", "virtual"):
        _fail("--clock: wall or virtual")
    _prepare_models(settings)
    pipeline = Pipeline(settings, clock, sink_specs(settings), consume=True)
    if settings.roster_file:
        try:
            pipeline.load_roster(load_roster_file(settings.roster_file).to_roster(), overwrite_rooms=False)
        except ConfigError as e:
            _fail(str(e))
    pipeline.start()
    services = AppServices(settings, pipeline.inbox, pipeline.keys, pipeline.advance if clock == "virtual" else None)
    lark = settings.lark
    if lark.verification_token.get_secret_value() and lark.encrypt_key.get_secret_value():
        from connectors.lark_actions import build_card_callbacks
        from web.lark_routes import lark_router

        # The alert cards' buttons call back here (configured as the card callback URL in Lark).
        services.extra_routers.append(lark_router(build_card_callbacks(lark, services.workspace)))
    elif "lark" in settings.sinks:
        log.warning("lark.verification_token / lark.encrypt_key not set: card buttons will not be answered")
    h, p = host or settings.http.host, port if port is not None else settings.http.port
    log.info("serving on http://%s:%s (clock=%s, shards=%s, redis=%s)", h, p, clock, settings.shards,
             "external" if settings.redis_url else "embedded")
    uvicorn.run(create_app(services), host=h, port=p, log_config=None, access_log=False)


@app.command()
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
        _fail("SA_API_TOKEN is not set")
    try:
        resp = httpx.post(f"{url}/api/rooms/{room_id}/cancel", json={"by": by, "reason": reason},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as e:
        _fail(f"cannot reach {url}: {e}")
    if resp.status_code != 202:
        _fail(f"{resp.status_code}: {resp.text}")
    console.print(f"[green]✓[/green] 已取消计时 / clock cancelled: {room_id}")


@app.command()
def report(
    start: Annotated[Optional[str], typer.Option("--from", help="first day YYYY-MM-DD (default: today)")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="last day YYYY-MM-DD (default: --from)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="write the JSON report here instead of printing tables")] = None,
    data_dir: Annotated[Optional[Path], typer.Option()] = None,
    lang: Annotated[Optional[str], typer.Option(help="zh | en")] = None,
) -> None:
    """The three metric views (per sales, per room, per episode) for today or a date range."""
    import time

    from connectors.console import metric_tables
    from core.timeutil import today
    from store.keys import Keys
    from store.redis import connect, ensure_embedded
    from store.report import build_report

    settings = _settings(data_dir=data_dir, lang=lang)
    try:
        first = date.fromisoformat(start) if start else today(int(time.time() * 1000), settings.timezone)
        last = date.fromisoformat(end) if end else first
    except ValueError as e:
        _fail(f"--from/--to: {e}")
    if last < first:
        _fail("--to: the range ends before it starts")
    r = connect(settings.redis_url or ensure_embedded(settings.data_dir))
    result = build_report(r, Keys(settings.namespace), first, last, settings.timezone, settings.over_threshold_minutes)
    if out:
        out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        console.print(f"[green]✓[/green] {out}")
        return
    for t in metric_tables(result, settings.lang, episode_limit=None):
        console.print(t)


def _accounts(data_dir: Path | None):
    from store.keys import Keys
    from store.redis import connect, ensure_embedded
    from store.users import Accounts

    settings = _settings(data_dir=data_dir)
    return Accounts(connect(settings.redis_url or ensure_embedded(settings.data_dir)), Keys(settings.namespace))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="manager | sales | viewer")] = "manager",
    name: Annotated[str, typer.Option(help="display name")] = "",
    staff: Annotated[Optional[str], typer.Option(help="the roster staff id (required for sales)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")] = False,
    data_dir: Annotated[Optional[Path], typer.Option()] = None,
) -> None:
    """Create an account; the first manager is made this way. The password is asked for, never an argument."""
    from policies.access import UserRole
    from store.users import AccountError

    if role not in {r.value for r in UserRole}:
        _fail("--role: manager, sales or viewer")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        user = _accounts(data_dir).create(username, password, UserRole(role), name, staff)
    except AccountError as e:
        _fail(str(e))
    console.print(f"[green]✓[/green] {user.username} ({user.role.value}) — http://127.0.0.1:8000/login")


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
    data_dir: Annotated[Optional[Path], typer.Option()] = None,
) -> None:
    """Issue an API token acting as this account (shown once; only its hash is kept)."""
    from store.users import AccountError

    try:
        token = _accounts(data_dir).issue_token(username, label)
    except AccountError as e:
        _fail(str(e))
    print(token)


@users_app.command("list")
def users_list(data_dir: Annotated[Optional[Path], typer.Option()] = None) -> None:
    for user in _accounts(data_dir).all():
        console.print(f"{user.username}\t{user.role.value}\t{user.name}\t{user.staff_id or ''}")


@app.command()
def check(
    text: Annotated[Optional[str], typer.Argument(help="one utterance (or use --jsonl with standard input)")] = None,
    role: Annotated[str, typer.Option(help="customer | staff: who wrote it")] = "staff",
    jsonl: Annotated[bool, typer.Option("--jsonl", help="one utterance per input line → one JSON object per line")] = False,
    closing_model: Annotated[str, typer.Option(help="keywords | learned | learned-model")] = "learned",
    lm: Annotated[Optional[Path], typer.Option(help="character LM (ARPA); default: the corpus LM, built once")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
) -> None:
    """Check what someone wrote: closing reply?, typos with corrections, phrasing with better wording."""
    from models.analysis import load_analyzer

    if role not in ("customer", "staff"):
        _fail("--role: customer or staff")
    if not jsonl and not text:
        _fail("give a TEXT, or --jsonl to read lines from standard input")
    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        analyzer = load_analyzer(closing_model, lm_path=lm, lang=lang)
    except (ValueError, OSError) as e:
        _fail(str(e))
    is_staff = role == "staff"
    if not jsonl:
        (verdict,) = analyzer.analyze([text], [is_staff])
        _print_verdict(verdict, lang)
        return
    batch: list[str] = []
    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) == 256:
            _write_verdicts(analyzer.analyze(batch, [is_staff] * len(batch)))
            batch = []
    if batch:
        _write_verdicts(analyzer.analyze(batch, [is_staff] * len(batch)))


def _write_verdicts(verdicts: list) -> None:
    sys.stdout.write("".join(orjson.dumps(v.to_dict()).decode() + "\n" for v in verdicts))
    sys.stdout.flush()


def _print_verdict(verdict, lang: str) -> None:
    zh = lang == "zh"
    closing = ("结束语，无需回复" if verdict.closing else "需要回复") if zh else (
        "closing reply, needs no answer" if verdict.closing else "needs an answer")
    console.print(f"[bold]{verdict.text}[/bold]")
    console.print(f"  {'结束语判断' if zh else 'closing'}: {closing} ({verdict.closing_score:.2f})")
    for t in verdict.typos:
        console.print(f"  [red]{'错别字' if zh else 'typo'}[/red] [{t.start}:{t.end}] {t.wrong} → {t.suggestion}")
    for f in verdict.phrasing:
        tip = f" → {f.suggestion}" if f.suggestion else ""
        console.print(f"  [yellow]{f.kind}[/yellow] {f.message}{tip}")
    if verdict.corrected != verdict.text:
        console.print(f"  {'建议改为' if zh else 'suggested'}: [green]{verdict.corrected}[/green]")
    if not verdict.flagged:
        console.print("  [green]✓[/green] " + ("没有发现问题" if zh else "nothing to fix"))


@bench_app.command("pipeline")
def bench_pipeline(
    rooms: Annotated[int, typer.Option(help="rooms to spread the messages over")] = 10_000,
    messages: Annotated[int, typer.Option(help="messages to push through the pipeline")] = 100_000,
    shards: Annotated[int, typer.Option()] = 2,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
    lead_s: Annotated[Optional[float], typer.Option(
        help="seconds after the first push when the first alerts fall due (default 5 + messages / 8000); "
             "give more on a slow machine, so the ingest is done first")] = None,
    alert_span_s: Annotated[float, typer.Option(
        help="seconds over which the unanswered questions' alerts fall due (short: a burst)")] = 8.0,
) -> None:
    """Push synthetic messages through the whole pipeline; report throughput, alert latency, memory."""
    from benchmarks.pipeline import run_pipeline_benchmark

    logs.setup(json_lines=False, level=logging.WARNING)
    result = run_pipeline_benchmark(rooms=rooms, messages=messages, shards=shards, latency_lead_s=lead_s,
                                    alert_span_s=alert_span_s)
    if json_out:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        console.print_json(data=result)


@bench_app.command("nlp")
def bench_nlp(
    task: Annotated[str, typer.Option(help="closing | csc | all")] = "all",
    dataset: Annotated[Optional[str], typer.Option(help="closing: test|dev|train|all|FILE.jsonl; csc: sighan2015|corpus500|dev|FILE.tsv")] = None,
    limit: Annotated[Optional[int], typer.Option(help="csc: only the first N sentence pairs")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON document on stdout")] = False,
    markdown_out: Annotated[Path, typer.Option("--markdown", help="where to write the Markdown table")] = Path(
        "benchmarks/nlp_results.md"),
) -> None:
    """Each configured NLP model side by side: precision, recall, F1, false alarms, speed (one core)."""
    from benchmarks.nlp import markdown, run_nlp_benchmark

    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        rows = run_nlp_benchmark(task, dataset, limit)
    except ValueError as e:
        _fail(str(e))
    markdown_out.parent.mkdir(parents=True, exist_ok=True)
    markdown_out.write_text(markdown(rows), encoding="utf-8")
    if json_out:
        sys.stdout.write(orjson.dumps({"results": rows}).decode() + "\n")
    else:
        console.print(markdown(rows))
        console.print(f"→ {markdown_out}")


@bench_app.command("chaos")
def bench_chaos(
    rooms: Annotated[int, typer.Option(help="rooms to spread the messages over")] = 5_000,
    messages: Annotated[int, typer.Option(help="messages to push through the live service")] = 200_000,
    seed: Annotated[int, typer.Option(help="the workload and the fault plan")] = 1,
    faults_per_kind: Annotated[int, typer.Option(help="faults of each kind")] = 2,
    kinds: Annotated[Optional[str], typer.Option(help="comma-separated fault kinds (default: all)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
) -> None:
    """SIGKILL the ingest, a shard, the supervisor, the notifier, the whole service and Redis while a
    day goes through the live service; it must end exactly as the same day without faults."""
    from benchmarks.chaos import print_human, run_chaos

    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        result = run_chaos(rooms, messages, seed, faults_per_kind, kinds.split(",") if kinds else None)
    except ValueError as e:
        _fail(str(e))
    if json_out:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        print_human(result)
    if not result["ok"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()

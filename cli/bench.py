"""`sales-assistant bench`: the benchmarks, each a thin command over its module in benchmarks/
(figures in benchmarks/README.md)."""
from __future__ import annotations

import datetime
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
import typer

from sales_assistant.cli import logs
from sales_assistant.cli.terminal import console, fail

bench_app = typer.Typer(help="Benchmarks (figures in benchmarks/README.md).", no_args_is_help=True)


def show(result: dict, json_out: bool, human: Callable[[dict], object] | None = None) -> None:
    """A benchmark's result: one JSON line on stdout for a program, else for a person (`human`, or the JSON
    pretty-printed)."""
    if json_out:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    elif human is not None:
        human(result)
    else:
        console.print_json(data=result)


@bench_app.command("pipeline")
def bench_pipeline(
    rooms: Annotated[int, typer.Option(help="rooms to spread the messages over")] = 10_000,
    messages: Annotated[int, typer.Option(help="messages to push through the pipeline")] = 100_000,
    shards: Annotated[int, typer.Option()] = 2,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
    lead_s: Annotated[float | None, typer.Option(
        help="seconds after the first push when the first alerts fall due (default 5 + messages / 8000); "
             "give more on a slow machine, so the ingest is done first")] = None,
    alert_span_s: Annotated[float, typer.Option(
        help="seconds over which the unanswered questions' alerts fall due (short: a burst)")] = 8.0,
    closing_model: Annotated[str | None, typer.Option(
        help="keywords | learned | learned-model (default: the configured one)")] = None,
    check_staff: Annotated[bool | None, typer.Option(
        "--check-staff/--no-check-staff", help="staff typo and phrasing checks (default: as configured)")] = None,
    check_actors: Annotated[int | None, typer.Option(
        min=1, help="staff-check actors (default: nlp.check_actors)")] = None,
    rate: Annotated[float | None, typer.Option(
        min=1, help="messages offered per second (default: as fast as the inbox takes them)")] = None,
    checks_timeout_s: Annotated[float, typer.Option(
        help="seconds to wait, after the alerts, for the staff checks to catch up")] = 600.0,
) -> None:
    """Push synthetic messages through the whole pipeline in the configuration the product ships (learned
    closing model, staff checks); report throughput, closing labels and fallbacks, staff-check lag, alert
    latency, memory. `--closing-model keywords --no-check-staff`: the reply clocks alone."""
    from sales_assistant.benchmarks.pipeline import run_pipeline_benchmark
    from sales_assistant.models.closing import KNOWN_DETECTORS

    if closing_model is not None and closing_model not in KNOWN_DETECTORS:
        raise typer.BadParameter(f"one of {', '.join(KNOWN_DETECTORS)}", param_hint="--closing-model")
    logs.setup(json_lines=False, level=logging.WARNING)
    result = run_pipeline_benchmark(rooms=rooms, messages=messages, shards=shards, latency_lead_s=lead_s,
                                    alert_span_s=alert_span_s, closing_model=closing_model, check_staff=check_staff,
                                    check_actors=check_actors, rate=rate, checks_timeout_s=checks_timeout_s)
    show(result, json_out)


@bench_app.command("alerts")
def bench_alerts(
    rooms: Annotated[int, typer.Option(help="rooms in the roster")] = 100_000,
    alerts: Annotated[int, typer.Option(help="rooms whose first alert falls due in the burst")] = 35_000,
    span_s: Annotated[float, typer.Option(help="seconds over which the burst's thresholds fall")] = 5.0,
    shards: Annotated[int, typer.Option()] = 2,
    lead_s: Annotated[float | None, typer.Option(
        help="seconds after the first push when the first threshold falls (default 5 + alerts / 3000)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
) -> None:
    """An alert burst (Monday 09:00): latency from each threshold to the alert log and the JSONL sink."""
    from sales_assistant.benchmarks.alerts import run_alert_burst

    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        result = run_alert_burst(rooms=rooms, alerts=alerts, span_s=span_s, shards=shards, lead_s=lead_s)
    except ValueError as e:
        fail(str(e))
    show(result, json_out)


@bench_app.command("nlp")
def bench_nlp(
    task: Annotated[str, typer.Option(help="closing | csc | staff (demo-day false alarms) | all")] = "all",
    dataset: Annotated[str | None, typer.Option(
        help="closing: the test split and the hard set, or one of test|dev|train|all|hard|fresh-r1|fresh|fresh-r3|fresh-r4|fresh-r5|FILE.jsonl; csc: sighan2015|corpus500|dev|FILE.tsv")] = None,
    limit: Annotated[int | None, typer.Option(help="csc: only the first N sentence pairs")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON document on stdout")] = False,
    markdown_out: Annotated[Path, typer.Option("--markdown", help="the Markdown results file: this run's sections are rewritten, the others kept")] = Path(
        "benchmarks/nlp_results.md"),
) -> None:
    """Each configured NLP model side by side: precision, recall, F1, false alarms, speed (one core)."""
    from sales_assistant.benchmarks.nlp import markdown, results_markdown, run_nlp_benchmark

    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        rows = run_nlp_benchmark(task, dataset, limit)
    except ValueError as e:
        fail(str(e))
    markdown_out.parent.mkdir(parents=True, exist_ok=True)
    existing = markdown_out.read_text(encoding="utf-8") if markdown_out.exists() else ""
    markdown_out.write_text(results_markdown(existing, rows, datetime.date.today().isoformat()), encoding="utf-8")
    if json_out:
        sys.stdout.write(orjson.dumps({"results": rows}).decode() + "\n")
    else:
        console.print(markdown(rows))
        console.print(f"→ {markdown_out}")


@bench_app.command("check-startup")
def bench_check_startup(
    runs: Annotated[int, typer.Option(min=1, help="timed runs of each way (the figure is their median)")] = 5,
    closing_model: Annotated[str, typer.Option(help="keywords | learned | learned-model")] = "learned",
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
) -> None:
    """`sales-assistant check` from start to answer: a staff line here (the baseline: what every check loaded
    before), a customer's line here, and a customer's line answered by a running service (--url)."""
    from sales_assistant.benchmarks.check_startup import run_check_startup

    logs.setup(json_lines=False, level=logging.WARNING)
    show(run_check_startup(runs, closing_model), json_out)


@bench_app.command("chaos")
def bench_chaos(
    rooms: Annotated[int, typer.Option(help="rooms to spread the messages over")] = 5_000,
    messages: Annotated[int, typer.Option(help="messages to push through the live service")] = 200_000,
    seed: Annotated[int, typer.Option(help="the workload and the fault plan")] = 1,
    faults_per_kind: Annotated[int, typer.Option(help="faults of each kind")] = 2,
    kinds: Annotated[str | None, typer.Option(help="comma-separated fault kinds (default: all)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line on stdout")] = False,
) -> None:
    """SIGKILL the ingest, a shard, the supervisor, the notifier, the whole service and Redis while a
    day goes through the live service; it must end exactly as the same day without faults."""
    from sales_assistant.benchmarks.chaos import print_human, run_chaos

    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        result = run_chaos(rooms, messages, seed, faults_per_kind, kinds.split(",") if kinds else None)
    except ValueError as e:
        fail(str(e))
    show(result, json_out, print_human)
    if not result["ok"]:
        raise typer.Exit(1)

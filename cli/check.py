"""`sales-assistant check`: what one person wrote, checked as the pipeline checks it: closing reply?,
typos with corrections, phrasing with better wording."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from sales_assistant.cli import logs
from sales_assistant.cli.terminal import console, fail

if TYPE_CHECKING:
    from sales_assistant.models.analysis import Verdict


def check(
    text: Annotated[str | None, typer.Argument(help="one utterance (or use --jsonl with standard input)")] = None,
    role: Annotated[str, typer.Option(help="customer | staff: who wrote it")] = "staff",
    jsonl: Annotated[bool, typer.Option(
        "--jsonl", help="one utterance per input line → one JSON object per line")] = False,
    closing_model: Annotated[str, typer.Option(help="keywords | learned | learned-model")] = "learned",
    lm: Annotated[Path | None, typer.Option(help="character LM (ARPA); default: the corpus LM, built once")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
) -> None:
    """Check what someone wrote: closing reply?, typos with corrections, phrasing with better wording."""
    from sales_assistant.models.analysis import load_analyzer

    if role not in ("customer", "staff"):
        fail("--role: customer or staff")
    if not jsonl and not text:
        fail("give a TEXT, or --jsonl to read lines from standard input")
    logs.setup(json_lines=False, level=logging.WARNING)
    try:
        analyzer = load_analyzer(closing_model, lm_path=lm, lang=lang)
    except (ValueError, OSError) as e:
        fail(str(e))
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


def _write_verdicts(verdicts: list[Verdict]) -> None:
    sys.stdout.write("".join(orjson.dumps(v.to_dict()).decode() + "\n" for v in verdicts))
    sys.stdout.flush()


def _print_verdict(verdict: Verdict, lang: str) -> None:
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

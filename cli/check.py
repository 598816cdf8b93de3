"""`sales-assistant check`: what one person wrote, checked as the pipeline checks it: closing reply?,
typos with corrections, phrasing with better wording.

Here, or by a running service (`--url`: POST /api/check), which has its models loaded: then this process
loads none and answers in about a second. Here, a customer's line loads the closing model only (typos
and phrasing are checked for staff alone), served in numpy so that torch is not imported; a staff line
loads the typo and phrasing models too.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
import typer

from sales_assistant.cli import logs
from sales_assistant.cli.terminal import console, fail

BATCH = 256  # lines per call with --jsonl (the API's limit too)
Judge = Callable[[list[str]], list[dict]]  # texts -> each one's verdict, as models.analysis.Verdict.to_dict


def check(
    text: Annotated[str | None, typer.Argument(help="one utterance (or use --jsonl with standard input)")] = None,
    role: Annotated[str, typer.Option(help="customer | staff: who wrote it")] = "staff",
    jsonl: Annotated[bool, typer.Option(
        "--jsonl", help="one utterance per input line → one JSON object per line")] = False,
    closing_model: Annotated[str, typer.Option(help="keywords | learned | learned-model")] = "learned",
    lm: Annotated[Path | None, typer.Option(help="character LM (ARPA); default: the corpus LM, built once")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    url: Annotated[str | None, typer.Option(
        envvar="SA_SERVICE_URL", help="ask the running service (POST /api/check, token in SA_API_TOKEN) with "
        "its models and settings, instead of loading models here")] = None,
) -> None:
    """Check what someone wrote: closing reply?, typos with corrections, phrasing with better wording."""
    if role not in ("customer", "staff"):
        fail("--role: customer or staff")
    if not jsonl and not text:
        fail("give a TEXT, or --jsonl to read lines from standard input")
    logs.setup(json_lines=False, level=logging.WARNING)
    judge = _service(url.rstrip("/"), role) if url else _here(closing_model, lm, lang, role)
    if not jsonl:
        (verdict,) = judge([text])
        _print_verdict(verdict, lang)
        return
    batch: list[str] = []
    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) == BATCH:
            _write_verdicts(judge(batch))
            batch = []
    if batch:
        _write_verdicts(judge(batch))


def _here(closing_model: str, lm: Path | None, lang: str, role: str) -> Judge:
    """This process's models: for a customer's words the closing model alone, the only check they get."""
    from sales_assistant.models.analysis import load_analyzer

    staff = role == "staff"
    try:
        analyzer = load_analyzer(closing_model, lm_path=lm, lang=lang,
                                 **({} if staff else {"typo_model": None, "phrasing": False}))
    except (ValueError, OSError) as e:
        fail(str(e))
    return lambda texts: [v.to_dict() for v in analyzer.analyze(texts, [staff] * len(texts))]


def _service(url: str, role: str) -> Judge:
    """The running service's checks over HTTP, as any API call: with a bearer token."""
    import httpx

    token = os.environ.get("SA_API_TOKEN")
    if not token:
        fail("--url: set SA_API_TOKEN to an API token (sales-assistant users token NAME)")

    def judge(texts: list[str]) -> list[dict]:
        try:
            resp = httpx.post(f"{url}/api/check", json={"texts": texts, "role": role},
                              headers={"Authorization": f"Bearer {token}"}, timeout=120)
        except httpx.HTTPError as e:
            fail(f"--url: cannot reach {url}: {e}")
        if resp.status_code != 200:
            fail(f"--url: {url} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()["verdicts"]
    return judge


def _write_verdicts(verdicts: list[dict]) -> None:
    sys.stdout.write("".join(orjson.dumps(v).decode() + "\n" for v in verdicts))
    sys.stdout.flush()


def _print_verdict(verdict: dict, lang: str) -> None:
    zh = lang == "zh"
    closing = ("结束语，无需回复" if verdict["closing"] else "需要回复") if zh else (
        "closing reply, needs no answer" if verdict["closing"] else "needs an answer")
    console.print(f"[bold]{verdict['text']}[/bold]")
    console.print(f"  {'结束语判断' if zh else 'closing'}: {closing} ({verdict['closing_score']:.2f})")
    for t in verdict["typos"]:
        console.print(f"  [red]{'错别字' if zh else 'typo'}[/red] [{t['start']}:{t['end']}] {t['wrong']} → "
                      f"{t['suggestion']}")
    for f in verdict["phrasing"]:
        tip = f" → {f['suggestion']}" if f["suggestion"] else ""
        console.print(f"  [yellow]{f['kind']}[/yellow] {f['message']}{tip}")
    if verdict["corrected"] is not None:  # the rewrite; None when there is no better wording
        console.print(f"  {'建议改为' if zh else 'suggested'}: [green]{verdict['corrected']}[/green]")
    if not (verdict["typos"] or verdict["phrasing"]):
        console.print("  [green]✓[/green] " + ("没有发现问题" if zh else "nothing to fix"))

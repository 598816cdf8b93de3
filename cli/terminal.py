"""What every command shares: the two consoles, stopping with a message, stopping on a signal, and the
configuration loaded through the bootstrap with its errors shown as such (exit status 2)."""
from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:  # the bootstrap imports Redis, pydantic and the policy: only for commands that load the config
    from sales_assistant.cli.bootstrap import Config

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def exit_on_signals(serving: bool) -> None:
    """Ctrl-C and SIGTERM end a long-running command through its `finally` blocks, so that what it
    started (the pipeline, the embedded Redis) stops with it. `serving`: a signal is how the command
    normally ends (exit status 0); otherwise it was interrupted (128 + the signal, as a shell reports it).
    uvicorn handles both while it serves and raises them again once it has shut down: this then runs.
    `ray.init` puts a SIGTERM handler of its own in place (exit status 15): call this again after it."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0 if serving else 128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def config_or_exit(**overrides: Any) -> Config:
    """The configuration with the options a command was given (None: not given), validated before
    anything starts."""
    from sales_assistant.cli.bootstrap import load_config
    from sales_assistant.config.settings import ConfigError

    try:
        return load_config(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as e:
        err.print(f"[red]配置错误 / configuration error[/red]\n{e}")
        raise typer.Exit(2) from None

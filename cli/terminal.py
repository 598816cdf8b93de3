"""What every command shares: the two consoles, stopping with a message, and the configuration
loaded through the bootstrap with its errors shown as such (exit status 2)."""
from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console

from sales_assistant.cli.bootstrap import Config, load_config
from sales_assistant.config.settings import ConfigError

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def config_or_exit(**overrides: Any) -> Config:
    """The configuration with the options a command was given (None: not given), validated before
    anything starts."""
    try:
        return load_config(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as e:
        err.print(f"[red]配置错误 / configuration error[/red]\n{e}")
        raise typer.Exit(2) from None

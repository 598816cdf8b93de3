"""`sales-assistant users`: dashboard accounts and API tokens, straight in the service's Redis."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sales_assistant.cli import bootstrap
from sales_assistant.cli.terminal import config_or_exit, console, fail

if TYPE_CHECKING:
    from sales_assistant.store.users import Accounts

users_app = typer.Typer(help="Dashboard accounts and API tokens / 账号与 API 令牌", no_args_is_help=True)


def _accounts(data_dir: Path | None) -> Accounts:
    return bootstrap.open_accounts(config_or_exit(data_dir=data_dir).settings)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="manager | sales | viewer")] = "manager",
    name: Annotated[str, typer.Option(help="display name")] = "",
    staff: Annotated[str | None, typer.Option(help="the roster staff id (required for sales)")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read the password from standard input")] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create an account; the first manager is made this way. The password is asked for, never an argument."""
    from sales_assistant.policies.access import UserRole
    from sales_assistant.store.users import AccountError

    if role not in {r.value for r in UserRole}:
        fail("--role: manager, sales or viewer")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        user = _accounts(data_dir).create(username, password, UserRole(role), name, staff)
    except AccountError as e:
        fail(str(e))
    console.print(f"[green]✓[/green] {user.username} ({user.role.value}) — http://127.0.0.1:8000/login")


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Issue an API token acting as this account (shown once; only its hash is kept)."""
    from sales_assistant.store.users import AccountError

    try:
        token = _accounts(data_dir).issue_token(username, label)
    except AccountError as e:
        fail(str(e))
    print(token)


@users_app.command("list")
def users_list(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    for user in _accounts(data_dir).all():
        console.print(f"{user.username}\t{user.role.value}\t{user.name}\t{user.staff_id or ''}")

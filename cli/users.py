"""`sales-assistant users`: dashboard accounts, API tokens and sessions, straight in the service's Redis
(and the session key file in its data dir). What changes here holds for the running service at once."""
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


def _password(from_stdin: bool) -> str:
    """Read from standard input, or asked for twice: never a command-line argument, which `ps` shows."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="manager | sales | viewer")] = "manager",
    name: Annotated[str, typer.Option(help="display name")] = "",
    staff: Annotated[str | None, typer.Option(help="the roster staff id (required for sales)")] = None,
    password_stdin: PasswordStdin = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create an account; the first manager is made this way. The password is asked for, never an argument."""
    from sales_assistant.policies.access import UserRole
    from sales_assistant.store.users import AccountError

    if role not in {r.value for r in UserRole}:
        fail("--role: manager, sales or viewer")
    password = _password(password_stdin)
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
        state = "\tdisabled 已停用" if user.disabled else ""
        console.print(f"{user.username}\t{user.role.value}\t{user.name}\t{user.staff_id or ''}{state}")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument()],
    password_stdin: PasswordStdin = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Set a new password; the account's dashboard sessions end at once."""
    from sales_assistant.store.users import AccountError

    password = _password(password_stdin)
    try:
        _accounts(data_dir).set_password(username, password)
    except AccountError as e:
        fail(str(e))
    console.print(f"[green]✓[/green] 密码已更改，{username} 的会话已全部结束 / password changed, {username}'s sessions ended")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument()],
                  data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Disable an account: its sessions end at once; its logins and API tokens are refused until enabled."""
    _set_disabled(username, True, data_dir)
    console.print(f"[green]✓[/green] 已停用 {username}，其会话已结束 / {username} disabled, its sessions ended")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument()],
                 data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Enable a disabled account again."""
    _set_disabled(username, False, data_dir)
    console.print(f"[green]✓[/green] 已启用 {username} / {username} enabled")


def _set_disabled(username: str, disabled: bool, data_dir: Path | None) -> None:
    from sales_assistant.store.users import AccountError

    try:
        _accounts(data_dir).set_disabled(username, disabled)
    except AccountError as e:
        fail(str(e))


@users_app.command("rotate-secret")
def users_rotate_secret(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """A new key for the session cookies, and every dashboard session ends: everyone logs in again."""
    settings = config_or_exit(data_dir=data_dir).settings
    key = bootstrap.session_key(settings)
    ended = bootstrap.open_accounts(settings).sessions.end_all()
    console.print(f"[green]✓[/green] 结束 {ended} 个会话 / {ended} sessions ended")
    if key.configured:
        fail("会话密钥来自 SA_SESSION_SECRET：请在那里换一个新值并重启服务 / the session key comes from "
             "SA_SESSION_SECRET: set a new value there and restart the service", code=1)
    key.rotate()
    console.print(f"[green]✓[/green] 已更换会话密钥 / new session key: {key.path}")

"""`sales-assistant bridge wechaty`: start the WeChat bridge (bridges/wechaty, a Node package on Wechaty),
and the doctor's checks of it: Node, the package's locked install, and the bridge's last contact.

The bridge is Node because Wechaty is (python-wechaty does not import on Python 3.11). The command only
checks what the bridge needs and hands over to `node bridge.js` with SA_URL and SA_INGEST_TOKEN; the puppet
comes from Wechaty's own environment (WECHATY_PUPPET, WECHATY_PUPPET_SERVICE_TOKEN, ...).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from sales_assistant.cli.terminal import config_or_exit, fail

BRIDGE_DIR = Path(__file__).resolve().parent.parent / "bridges" / "wechaty"
MIN_NODE = 18
bridge_app = typer.Typer(help="微信桥接 · the WeChat bridge", no_args_is_help=True)


def node_version() -> tuple[int, str] | None:
    """(major, "v20.1.0") of the `node` on PATH, None without one."""
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    found = re.match(r"v(\d+)\.", out)
    return (int(found[1]), out) if found else None


def install_problem() -> tuple[str, str] | None:
    """Why the bridge's dependencies are not installed as locked ((zh, en)), None when they are: npm ci
    writes node_modules/.package-lock.json, the same as package-lock.json's packages."""
    lock = BRIDGE_DIR / "package-lock.json"
    if not lock.is_file():
        return f"缺少 {lock}", f"{lock} is missing"
    installed = BRIDGE_DIR / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return "桥接的依赖尚未安装", "the bridge's dependencies are not installed"
    import orjson

    want = {k: v for k, v in orjson.loads(lock.read_bytes()).get("packages", {}).items() if k}
    have = {k: v.get("version") for k, v in orjson.loads(installed.read_bytes()).get("packages", {}).items()}
    # Optional packages for other platforms (@swc/core-darwin-arm64, ...) are locked but never installed here.
    differ = sorted(k for k, v in want.items()
                    if have.get(k) != v.get("version") and not (v.get("optional") and k not in have))
    if differ:
        return (f"已安装的依赖与 package-lock.json 不一致（{len(differ)} 个，如 {differ[0]}）",
                f"the installed dependencies differ from package-lock.json ({len(differ)}, e.g. {differ[0]})")
    return None


@bridge_app.command("wechaty")
def wechaty(
    url: Annotated[str | None, typer.Option(help="the running service (default SA_URL, else the configured "
                                                 "host and port)")] = None,
) -> None:
    """Start the Wechaty bridge: scan the QR code it prints with WeChat, then rooms appear on the dashboard."""
    config = config_or_exit()
    s = config.settings
    token = os.environ.get("SA_INGEST_TOKEN") or (s.ingest_token.get_secret_value() if s.ingest_token else "")
    if not token:
        fail("SA_INGEST_TOKEN is not set: the bridge posts messages with the ingest token")
    found = node_version()
    if found is None or found[0] < MIN_NODE:
        fail(f"the bridge needs Node ≥ {MIN_NODE} (found {found[1] if found else 'none'}): "
             "apt-get install nodejs npm, or `make node`")
    if (problem := install_problem()) is not None:
        fail(f"{problem[1]}: run `make node` (npm ci in {BRIDGE_DIR})")
    env = {**os.environ, "SA_INGEST_TOKEN": token,
           "SA_URL": url or os.environ.get("SA_URL") or f"http://{s.http.host}:{s.http.port}",
           "SA_BRIDGE_DIR": os.environ.get("SA_BRIDGE_DIR") or str(s.data_dir.resolve() / "wechaty-bridge")}
    os.chdir(BRIDGE_DIR)
    os.execvpe("node", ["node", "bridge.js"], env)

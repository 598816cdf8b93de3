"""`sales-assistant`: the command line, one module per command group, assembled here.

demo (cli/demo.py), replay (cli/replay.py), run and cancel (cli/service.py), report (cli/report.py),
users (cli/users.py), check (cli/check.py), export-labels (cli/labels.py), bench (cli/bench.py), doctor
(cli/doctor.py), bridge (cli/bridge.py). What they build, they build through the composition root, cli/bootstrap.py.
"""
from __future__ import annotations

import typer

from sales_assistant.cli import check, demo, doctor, labels, replay, report, service
from sales_assistant.cli.bench import bench_app
from sales_assistant.cli.bridge import bridge_app
from sales_assistant.cli.users import users_app

app = typer.Typer(help="销售助理 Sales Assistant: reply clocks, escalating Lark alerts, reply metrics.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command("replay")(replay.replay)
app.command("demo")(demo.demo)
app.command("run")(service.run)
app.command("cancel")(service.cancel)
app.command("report")(report.report)
app.command("check")(check.check)
app.command("export-labels")(labels.export_labels)
app.command("doctor")(doctor.run)
app.add_typer(users_app, name="users")
app.add_typer(bench_app, name="bench")
app.add_typer(bridge_app, name="bridge")


if __name__ == "__main__":
    app()

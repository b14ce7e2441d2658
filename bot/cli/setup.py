"""The set-up commands: init, import-roster, import-plan."""
from __future__ import annotations

import click

from storage.db import transaction, upgrade
from storage.importers.plan_import import import_plan
from storage.importers.roster_import import import_roster
from bot.cli.group import cli, pass_runtime

_path = click.argument("path")
_PATH_HELP = "\n\nPATH：文件或文件夹 file or folder"


@cli.command("init", help="创建或升级数据库 create or upgrade the database schema")
@pass_runtime
def init(runtime) -> None:
    upgrade(runtime.engine)  # done before every command; here it is the whole job
    print("数据库已就绪 database ready")


@cli.command("import-roster", help="导入组织和党员名册（.xlsx 或含 CSV 的文件夹）import the roster" + _PATH_HELP)
@_path
@click.option("--allow-mass-deactivate", is_flag=True,
              help="允许停用超过 roster.max_deactivate_share（默认 20%）的党员或组织 "
                   "allow deactivating more than that share")
@pass_runtime
def import_roster_command(runtime, path, allow_mass_deactivate) -> None:
    with transaction(runtime.sessions) as session:
        summary = import_roster(session, path, runtime.clock.now(),
                                max_deactivate_share=runtime.config["roster.max_deactivate_share"],
                                allow_mass_deactivate=allow_mass_deactivate)
    print(f"组织：{summary['orgs']}")
    print(f"党员：{summary['members']}")
    if "development" in summary:
        print(f"发展党员：{summary['development']}")


@cli.command("import-plan", help="导入年度重点工作计划（YAML）import a yearly plan" + _PATH_HELP)
@_path
@pass_runtime
def import_plan_command(runtime, path) -> None:
    with transaction(runtime.sessions) as session:
        summary = import_plan(session, path, runtime.clock.now())
    print(f"任务：{summary}")


@cli.command("serve", help="启动 Web 服务（企业微信回调、管理页面） run the web server")
@click.option("--host", help="监听地址 bind address (默认 server.host)")
@click.option("--port", type=int, help="端口 port (默认 server.port)")
@click.option("--workers", type=int, help="工作进程数 worker processes")
@pass_runtime
def serve_command(runtime, host, port, workers) -> None:
    from bot.web.server import serve
    config = runtime.config
    serve(runtime, host or config["server.host"], port or config["server.port"],
          workers or config["server.workers"])


@cli.command("demo", help="演示：示例县名册和计划 + 本机企业微信模拟服务 demo with the example county")
@click.option("--port", type=int, default=8080, help="端口 port (默认 8080)")
@click.option("--no-serve", is_flag=True, help="只准备数据，不启动服务 prepare only")
@click.option("--long-connection", is_flag=True,
              help="智能机器人走长连接（内网模式）the smart robot over its long connection")
@pass_runtime(database=False)
def demo_command(runtime, port, no_serve, long_connection) -> None:
    from bot.cli.demo import run_demo
    run_demo(port, serve_too=not no_serve, long_connection=long_connection)

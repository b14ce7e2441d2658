"""The set-up commands: init, import-roster, import-plan."""
from __future__ import annotations

from storage.db import transaction, upgrade
from storage.importers.plan_import import import_plan
from storage.importers.roster_import import import_roster
from bot.cli import command


def _path(parser) -> None:
    parser.add_argument("path", help="文件或文件夹 file or folder")


@command("init", "创建或升级数据库 create or upgrade the database schema")
def init(runtime, args) -> None:
    upgrade(runtime.engine)  # done before every command; here it is the whole job
    print("数据库已就绪 database ready")


@command("import-roster", "导入组织和党员名册（.xlsx 或含 CSV 的文件夹）import the roster", _path)
def import_roster_command(runtime, args) -> None:
    with transaction(runtime.sessions) as session:
        summary = import_roster(session, args.path, runtime.clock.now())
    print(f"组织：{summary['orgs']}")
    print(f"党员：{summary['members']}")


@command("import-plan", "导入年度重点工作计划（YAML）import a yearly plan", _path)
def import_plan_command(runtime, args) -> None:
    with transaction(runtime.sessions) as session:
        summary = import_plan(session, args.path, runtime.clock.now())
    print(f"任务：{summary}")


def _serve_args(parser) -> None:
    parser.add_argument("--host", help="监听地址 bind address (默认 server.host)")
    parser.add_argument("--port", type=int, help="端口 port (默认 server.port)")
    parser.add_argument("--workers", type=int, help="工作进程数 worker processes")


@command("serve", "启动 Web 服务（企业微信回调、管理页面） run the web server", _serve_args)
def serve_command(runtime, args) -> None:
    from bot.web.server import serve
    config = runtime.config
    serve(runtime, args.host or config["server.host"], args.port or config["server.port"],
          args.workers or config["server.workers"])


def _demo_args(parser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="端口 port (默认 8080)")
    parser.add_argument("--no-serve", action="store_true", help="只准备数据，不启动服务 prepare only")


@command("demo", "演示：示例县名册和计划 + 本机企业微信模拟服务 demo with the example county", _demo_args,
         database=False)
def demo_command(runtime, args) -> None:
    from bot.cli.demo import run_demo
    run_demo(args.port, serve_too=not args.no_serve)

"""The rooms keep their doors (ARCHITECTURE.md, house style): handlers/
never imports bot/ (the edges), storage/ imports neither, and SQL is
written only in storage/ — so what the bot means can be run and tested
without Flask or WeCom, and every query is found in one room."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "bindparam", "func"}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            if node.module == "sqlalchemy":
                names |= {f"sqlalchemy.{a.name}" for a in node.names}
    return names


def offenders(room: str, forbidden) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / room).rglob("*.py")
                  if any(forbidden(name) for name in imports_of(p)))


def test_handlers_never_import_bot():
    assert offenders("handlers", lambda n: n == "bot" or n.startswith("bot.")) == []


def test_storage_imports_neither_bot_nor_handlers():
    assert offenders("storage", lambda n: n.split(".")[0] in ("bot", "handlers")) == []


def test_sql_is_written_only_in_storage():
    builds_sql = lambda n: n.startswith("sqlalchemy.") and n.split(".", 1)[1] in SQL_BUILDERS  # noqa: E731
    assert offenders("handlers", builds_sql) == [] and offenders("bot", builds_sql) == []

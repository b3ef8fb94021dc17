"""The SQL of the SQLite store, loaded from the ``.sql`` files of the features (package
data, like the Lua): ``<feature>/schema.sql`` (tables and triggers) and
``<feature>/queries.sql`` (named queries), read once at import."""

from __future__ import annotations

import sqlite3
from importlib import resources

# in the order their tables are made
FEATURES = ("leases", "state", "rates", "events", "tasks", "streams", "approvals", "agents")


def _text(package: str, name: str) -> str:
    return (resources.files(package) / name).read_text(encoding="utf-8")


def queries(feature: str) -> dict[str, str]:
    """The queries of ``<feature>/queries.sql`` by name: each is the SQL after a
    ``-- name: <name>`` line up to its semicolon (comment lines left out)."""
    found: dict[str, str] = {}
    name, lines = "", list[str]()
    for line in _text(f"accord.backends.{feature}", "queries.sql").splitlines():
        if line.startswith("-- name: "):
            name, lines = line[len("-- name: ") :].strip().upper(), []
        elif name and not line.startswith("--") and line.strip():
            lines.append(line.strip())
            if line.rstrip().endswith(";"):
                found[name] = " ".join(lines)[:-1]
                name = ""
    return found


def schema(**constants: int) -> list[str]:
    """The statements that make a file's tables: ``sqlite_schema.sql`` (the store's
    own) and each feature's ``schema.sql``, with ``{NAME}`` filled from ``constants``.
    A trigger's body holds semicolons too, so statements are split where complete."""
    texts = [_text("accord.backends", "sqlite_schema.sql")]
    texts += [_text(f"accord.backends.{f}", "schema.sql") for f in FEATURES]
    statements, part = [], ""
    for piece in "\n".join(texts).format(**constants).split(";"):
        part += piece + ";"
        if sqlite3.complete_statement(part):
            statements.append(part)
            part = ""
    return [stmt for stmt in statements if stmt.strip("; \n")]

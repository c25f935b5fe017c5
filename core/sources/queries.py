"""A --query: exactly one SELECT, decided by the database's own parser, and run as that parser
renders it back (never the text as written, never pasted).

DuckDB: DuckDB's own statement extraction says how many statements the text holds and of what
type; its serializer (json_serialize_sql, which takes only SELECT statements) parses it, and
json_deserialize_sql renders it back without comments. PostgreSQL: libpg_query (pglast), the
server's own parser as a library, parses it; pglast renders it back. Either way what runs is one
SELECT, whatever the text held (a second statement, a parenthesis closing the wrapper, a trailing
`-- comment`).

A PostgreSQL SELECT can still call a function with a side effect that outlives its read-only
transaction (a replication slot made or dropped, a file written on the server, another session
ended, statistics reset, a setting changed). PostgreSQL itself says which functions may: those it
marks VOLATILE. So every function and operator the query calls is looked up on the server and a
volatile one is refused, but for the few that only read a clock, draw a random number or wait
(VOLATILE_BUT_HARMLESS): the rule needs no list of dangerous functions, so a new one is refused
too. A function called inside a view or another function of the database is that database's own
(its owner's), as any read of the view would run it."""

from __future__ import annotations

import json
from typing import Any

from segscope.core.errors import DataError
from segscope.core.text import one_line

# Volatile only because their value changes from call to call: they read a clock, draw a random
# number or wait; none writes anything or reaches beyond the session.
VOLATILE_BUT_HARMLESS = frozenset(
    {
        "random",
        "random_normal",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
    }
)


def _refused(why: str) -> DataError:
    return DataError(f"--query {why}. Give one SELECT statement (it only reads).")


def duckdb_select(connection: Any, sql: str) -> str:
    """`sql`, checked to be exactly one SELECT by DuckDB's parser, as DuckDB renders it back."""
    try:
        statements = connection.extract_statements(sql)
    except Exception as exc:  # DuckDB's ParserException: the query is not valid SQL
        raise _refused(f"cannot be parsed ({_first(exc)})") from None
    if len(statements) != 1:
        raise _refused(f"holds {len(statements)} statements")
    kind = str(getattr(statements[0].type, "name", statements[0].type))
    if kind != "SELECT":
        raise _refused(f"is a {kind} statement, not a SELECT")
    serialized = connection.execute("SELECT json_serialize_sql($1)", [sql]).fetchall()[0][0]
    parsed = json.loads(serialized)
    if parsed.get("error") or len(parsed.get("statements", ())) != 1:
        raise _refused(f"is not one SELECT ({one_line(parsed.get('error_message', ''), 120)})")
    rendered = connection.execute("SELECT json_deserialize_sql($1)", [serialized]).fetchall()[0][0]
    return str(rendered)


def postgres_select(sql: str) -> tuple[str, set[tuple[str | None, str]], set[str]]:
    """`sql`, checked to be exactly one SELECT (no INTO, no data-modifying WITH) by PostgreSQL's
    parser, as pglast renders it back; with the functions it calls (schema or None, name) and
    the operators it uses, for the server to say which are volatile."""
    try:
        from pglast import ast, parse_sql
        from pglast.parser import ParseError
        from pglast.stream import RawStream
        from pglast.visitors import Visitor
    except ImportError:
        raise DataError(
            "--query on PostgreSQL needs the 'db' extra: pip install 'segscope[db]'."
        ) from None
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise _refused(f"cannot be parsed ({_first(exc)})") from None
    if len(statements) != 1:
        raise _refused(f"holds {len(statements)} statements")
    statement = statements[0].stmt
    if not isinstance(statement, ast.SelectStmt):
        raise _refused(f"is a {type(statement).__name__.removesuffix('Stmt')} statement")
    functions: set[tuple[str | None, str]] = set()
    operators: set[str] = set()
    other: list[str] = []

    class Calls(Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            if isinstance(node, ast.FuncCall):
                names = [n.sval for n in node.funcname or ()]
                functions.add((names[-2] if len(names) > 1 else None, names[-1]))
            elif isinstance(node, ast.A_Expr) and node.name:
                operators.add(str(node.name[-1].sval))
            elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
                other.append("SELECT INTO (it creates a table)")
            elif (
                isinstance(node, ast.Node)
                and type(node).__name__.endswith("Stmt")
                and not isinstance(node, ast.SelectStmt)
            ):
                other.append(f"a {type(node).__name__.removesuffix('Stmt').upper()} statement")

    Calls()(statement)
    if other:
        raise _refused(f"holds {other[0]}")
    return RawStream()(statement), functions, operators


def volatile_calls(
    rows: list[dict[str, Any]],
) -> list[str]:
    """The volatile functions among the server's answer (name, schema), but the harmless ones."""
    return sorted(
        {f"{r['schema']}.{r['name']}" for r in rows if r["name"] not in VOLATILE_BUT_HARMLESS}
    )


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return one_line(lines[0] if lines else type(exc).__name__, 160)

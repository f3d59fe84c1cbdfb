"""Offline Dameng (DM8) DDL: what ``manage.py migrate`` would run on an empty Dameng schema,
produced without a server, plus a checker for constructs Dameng rejects.

The migrations of every installed app are replayed, in migrate's order, through dmDjango's own
schema editor in ``collect_sql`` mode (as ``sqlmigrate`` does), so the script is dmDjango's real
DDL rather than a hand-written copy.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from importlib.metadata import version

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState
from django.db.utils import ConnectionHandler, load_backend

# Placeholder credentials: they are never used, nothing connects.
OFFLINE_DATABASE = {"ENGINE": "dmDjango", "NAME": "MDTJ", "USER": "x", "PASSWORD": "x",
                    "HOST": "127.0.0.1", "PORT": "5236"}
# Its own alias, so nothing here can reach the project's configured database.
OFFLINE_ALIAS = "dameng_offline"


class OfflineError(RuntimeError):
    pass


def _refuse_connection():
    raise OfflineError("离线模式：生成达梦 DDL 时不连接数据库")


def offline_connection():
    """A dmDjango DatabaseWrapper that has never connected and never will."""
    # ConnectionHandler fills in the keys Django requires (OPTIONS, TIME_ZONE, TEST, …).
    settings_dict = ConnectionHandler().configure_settings({DEFAULT_DB_ALIAS: dict(OFFLINE_DATABASE)})
    connection = load_backend("dmDjango").DatabaseWrapper(settings_dict[DEFAULT_DB_ALIAS], OFFLINE_ALIAS)
    # dmDjango sets these only in get_new_connection(); lookups compiled into DDL (conditions
    # of constraints) need them.
    dialect = connection.features.parse_module
    connection.operators = dialect.operators
    connection.pattern_esc = dialect.pattern_esc
    connection.pattern_ops = dialect.pattern_ops
    # Anything that would need the server (introspection, dameng_version) fails at once instead
    # of opening a socket to HOST:PORT.
    connection.ensure_connection = _refuse_connection
    return connection


@contextmanager
def registered(connection):
    """Make the offline connection findable by alias while migrations replay: operations look
    it up in django.db.connections (Options.can_migrate, atomic())."""
    connections[connection.alias] = connection
    try:
        yield connection
    finally:
        del connections[connection.alias]


def migration_plan(loader: MigrationLoader) -> list:
    """migrate's plan on an empty database: every leaf node, dependencies first."""
    plan, seen = [], set()
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(loader.graph.nodes[key])
    return plan


def _replay(migration, state: ProjectState, connection) -> tuple[ProjectState, list[str]]:
    """Collect the SQL of one migration as migrate runs it (one schema editor per migration).
    If that fails, replay it operation by operation: a RunSQL fails only because apply() wraps it
    in atomic(), which needs a live connection; an operation that must read the server's
    constraint names (e.g. removing a unique_together) becomes a SQL comment and the replay goes
    on with its state change applied."""
    try:
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            # Migration.apply mutates the state it is given: work on a copy in case it fails.
            new_state = migration.apply(state.clone(), editor, collect_sql=True)
        return new_state, editor.collected_sql
    except Exception:  # noqa: BLE001 - retried operation by operation below
        pass
    lines = []
    for operation in migration.operations:
        lines += ["--", f"-- {operation.describe()}", "--"]
        if not operation.reduces_to_sql:
            lines.append("-- THIS OPERATION CANNOT BE WRITTEN AS SQL")
            continue
        old_state = state.clone()
        operation.state_forwards(migration.app_label, state)
        try:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                operation.database_forwards(migration.app_label, editor, old_state, state)
            lines += editor.collected_sql
        except Exception as exc:  # noqa: BLE001 - reported in the script for the DBA
            lines.append(f"-- 无法离线生成此操作的 DDL（{type(exc).__name__}: {exc}），"
                         "请在达梦上执行 migrate 或手工补充")
    return state, lines


def generate_ddl() -> list[str]:
    """The script as lines: SQL comments and statements (each ending with ';')."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    lines = [
        "-- 矛盾纠纷调处研判系统：达梦（DM8）数据库建表脚本",
        f"-- 由 python manage.py dameng_ddl 离线生成（Django {version('Django')}，"
        f"dmDjango {version('dmDjango')}），生成时未连接数据库。",
        "-- 内容即在空模式上执行 manage.py migrate 时 dmDjango 生成的 DDL（数据迁移 RunPython 除外）。",
        "-- 执行本脚本后，在应用服务器上运行 python manage.py migrate --fake 登记迁移记录。",
    ]
    with registered(offline_connection()) as connection:
        # migrate creates its bookkeeping table first (MigrationRecorder.ensure_schema).
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            editor.create_model(MigrationRecorder.Migration)
        lines += ["", "-- ===== django_migrations（迁移记录表）=====", *editor.collected_sql]

        state = ProjectState(real_apps=loader.unmigrated_apps)
        for migration in migration_plan(loader):
            state, sql = _replay(migration, state, connection)
            lines += ["", f"-- ===== {migration.app_label}.{migration.name} =====", *sql]
    return lines


def statements(ddl: str) -> list[str]:
    """The SQL statements of a script (comments dropped, one statement per item, no ';')."""
    body = "\n".join(line for line in ddl.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*$", body, flags=re.M) if s.strip()]


# --- compatibility checker ----------------------------------------------------------------

# Column types Dameng cannot index: dmDjango's _limited_data_types plus the other large-object
# types. JSON (dmDjango's JSONField type) is included conservatively, not verified on a server.
UNINDEXABLE_TYPES = {"TEXT", "CLOB", "NCLOB", "BLOB", "IMAGE", "LONGVARCHAR", "LONGVARBINARY",
                     "BFILE", "JSON", "VECTOR"}
MAX_IDENTIFIER_BYTES = 128
# PostgreSQL (and MySQL) syntax that Dameng rejects; searched with literals and identifiers removed.
FOREIGN_SYNTAX = {
    "PostgreSQL 类型转换 ::": r"::",
    "PostgreSQL 类型 jsonb": r"\bJSONB\b",
    "PostgreSQL 自增 GENERATED … AS IDENTITY": r"\bGENERATED\s+(BY\s+DEFAULT|ALWAYS)\s+AS\s+IDENTITY\b",
    "PostgreSQL 类型 serial": r"\b(BIG|SMALL)?SERIAL\b",
    "PostgreSQL 索引方法 USING gin/gist/brin": r"\bUSING\s+(GIN|GIST|BRIN|SPGIST)\b",
    "PostgreSQL 并发建索引 CONCURRENTLY": r"\bCONCURRENTLY\b",
    "PostgreSQL 类型 bytea/inet/uuid": r"\b(BYTEA|INET|UUID)\b",
    "PostgreSQL ILIKE": r"\bILIKE\b",
    "MySQL AUTO_INCREMENT": r"\bAUTO_INCREMENT\b",
    "MySQL 反引号标识符": r"`",
    "部分索引（CREATE INDEX … WHERE）": r"^CREATE\s+(UNIQUE\s+)?INDEX\b.*\bWHERE\b",
}
IDENT = r'"((?:[^"]|"")+)"'
CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+" + IDENT + r"\s*\((.*)\)", re.I | re.S)


def _names(text: str) -> list[str]:
    return [n.replace('""', '"') for n in re.findall(IDENT, text)]


def _strip_literals(stmt: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", stmt)


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in body:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return parts + [current.strip()] if current.strip() else parts


def _column_type(definition: str) -> str | None:
    """'"COL" NVARCHAR2(32) NOT NULL' -> 'NVARCHAR2'; None for NULL/NOT NULL/DEFAULT-only."""
    m = re.match(IDENT + r"\s+([A-Za-z][A-Za-z0-9_]*)", definition)
    if m and m.group(2).upper() not in {"NULL", "NOT", "DEFAULT", "CHECK", "SET", "DROP"}:
        return m.group(2).upper()
    return None


def find_problems(ddl: str) -> list[str]:
    """Constructs in a DDL script that Dameng rejects, each naming the table, column and
    statement at fault. Statements are followed in order, so a column later MODIFY'd to TEXT
    while indexed is caught as well as an index created on a TEXT column."""
    problems: list[str] = []
    types: dict[str, dict[str, str]] = {}  # table -> column -> base type
    indexes: dict[str, dict[str, list[str]]] = {}  # table -> index/constraint name -> columns

    def index_on(table, name, columns, stmt):
        indexes.setdefault(table, {})[name] = columns
        for column in columns:
            column_type = types.get(table, {}).get(column)
            if column_type in UNINDEXABLE_TYPES:
                problems.append(f"表 {table} 列 {column} 类型为 {column_type}，达梦不能在其上建索引或"
                                f"唯一约束（{name}）：{stmt[:300]}")

    def column_defined(table, definition, stmt):
        column, column_type = _names(definition)[0], _column_type(definition)
        if column_type:
            types.setdefault(table, {})[column] = column_type
        if re.search(r"\b(UNIQUE|PRIMARY\s+KEY)\b", _strip_literals(definition), re.I):
            index_on(table, f"{column} 列上的 UNIQUE/PRIMARY KEY", [column], stmt)
        elif column_type in UNINDEXABLE_TYPES:
            for name, columns in indexes.get(table, {}).items():
                if column in columns:
                    problems.append(f"表 {table} 列 {column} 改为 {column_type}，但它在索引 {name} 中："
                                    f"{stmt[:300]}")

    for stmt in statements(ddl):
        bare = re.sub(IDENT, '""', _strip_literals(stmt))
        for what, pattern in FOREIGN_SYNTAX.items():
            if re.search(pattern, bare, re.I | re.S):
                problems.append(f"达梦不支持的语法（{what}）：{stmt[:300]}")
        for name in _names(stmt):
            if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
                problems.append(f"标识符超过达梦的 {MAX_IDENTIFIER_BYTES} 字节上限"
                                f"（{len(name.encode('utf-8'))}）：{name}，语句：{stmt[:300]}")

        if m := CREATE_TABLE.match(_strip_literals(stmt)):
            table = m.group(1)
            types[table], indexes[table] = {}, {}
            for element in _split_top_level(m.group(2)):
                if element.startswith('"'):
                    column_defined(table, element, stmt)
                elif c := re.match(r"(?:CONSTRAINT\s+" + IDENT + r"\s+)?(UNIQUE|PRIMARY\s+KEY)\s*\((.*)\)",
                                   element, re.I | re.S):
                    index_on(table, c.group(1) or c.group(2), _names(c.group(3)), stmt)
        elif m := re.match(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+" + IDENT + r"\s+ON\s+" + IDENT + r"\s*\((.*)\)",
                           stmt, re.I | re.S):
            index_on(m.group(2), m.group(1), _names(m.group(3)), stmt)
        elif m := re.match(r"DROP\s+INDEX\s+" + IDENT, stmt, re.I):
            for table_indexes in indexes.values():
                table_indexes.pop(m.group(1), None)
        elif m := re.match(r"ALTER\s+TABLE\s+" + IDENT + r"\s+(.*)", stmt, re.I | re.S):
            table, action = m.group(1), m.group(2)
            if a := re.match(r"ADD\s+CONSTRAINT\s+" + IDENT + r"\s+(UNIQUE|PRIMARY\s+KEY)\s*\((.*?)\)",
                             action, re.I | re.S):
                index_on(table, a.group(1), _names(a.group(3)), stmt)
            elif a := re.match(r"(?:ADD(?:\s+COLUMN)?|MODIFY)\s+(" + IDENT + r".*)", action, re.I | re.S):
                column_defined(table, a.group(1), stmt)
            elif a := re.match(r"DROP\s+CONSTRAINT\s+" + IDENT, action, re.I):
                indexes.get(table, {}).pop(a.group(1), None)
            elif a := re.match(r"DROP\s+COLUMN\s+" + IDENT, action, re.I):
                types.get(table, {}).pop(a.group(1), None)
            elif a := re.match(r"RENAME\s+COLUMN\s+" + IDENT + r"\s+TO\s+" + IDENT, action, re.I):
                if a.group(1) in types.get(table, {}):
                    types[table][a.group(2)] = types[table].pop(a.group(1))
            elif a := re.match(r"RENAME\s+TO\s+" + IDENT, action, re.I):
                types[a.group(1)] = types.pop(table, {})
                indexes[a.group(1)] = indexes.pop(table, {})
    return problems


def created_tables(ddl: str) -> dict[str, dict[str, str]]:
    """Table -> column -> base type, from the CREATE TABLE statements of a script."""
    tables = {}
    for stmt in statements(ddl):
        if m := CREATE_TABLE.match(_strip_literals(stmt)):
            tables[m.group(1)] = {_names(e)[0]: _column_type(e) for e in _split_top_level(m.group(2))
                                  if e.startswith('"')}
    return tables

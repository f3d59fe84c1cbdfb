"""Issue 18 (1): on the default SQLite setup a worker writing must not lock readers out. The
connection settings (config.settings.database_from_url) give WAL (readers go on while a write
transaction is open, even one that has spilled pages to disk), a busy timeout (a second writer
waits instead of failing with "database is locked") and IMMEDIATE write transactions. Checked on a
file database with Django connections of the project's settings, one per thread, as the dev
server's threads and the qcluster worker have."""
from __future__ import annotations

import threading
import time

import pytest
from django.db.utils import ConnectionHandler

HOLD = 1.5  # seconds the writer keeps its transaction open


def handler_for(path, **overrides):
    from config.settings import database_from_url

    cfg = database_from_url(f"sqlite:///{path}")
    cfg.setdefault("OPTIONS", {}).update(overrides)
    return ConnectionHandler({"default": cfg})


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker):
    """These connections go to their own files, not to the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "concurrency.sqlite3"
    handler = handler_for(path)
    conn = handler["default"]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT)")
        cur.execute("INSERT INTO item (body) VALUES ('x')")
    conn.close()
    return path


def long_writer(path, started: threading.Event, errors: list, **overrides):
    """A worker's write transaction: large enough to spill its pages to the file (a tiny page
    cache), held open for HOLD seconds."""
    handler = handler_for(path, **overrides)
    conn = handler["default"]
    try:
        with conn.cursor() as cur:
            cur.execute("PRAGMA cache_size = 5")
        with _atomic(conn):
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO item (body) VALUES (%s)", [("y" * 2000,)] * 2000)
            started.set()
            time.sleep(HOLD)
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)
        started.set()
    finally:
        conn.close()


class _atomic:
    """What transaction.atomic does on SQLite (BEGIN in the configured transaction mode, then
    COMMIT), on a connection that is not in django.db.connections."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.ensure_connection()
        self.conn._start_transaction_under_autocommit()
        return self

    def __exit__(self, exc_type, *_):
        self.conn.cursor().execute("COMMIT" if exc_type is None else "ROLLBACK")


def read_during(path, started, n_readers=3, **overrides):
    """Readers running while the writer's transaction is open: (errors, slowest read in s)."""
    results = []

    def reader():
        conn = handler_for(path, **overrides)["default"]
        try:
            started.wait(30)
            worst = 0.0
            for _ in range(5):
                t0 = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute("SELECT COUNT(*), MAX(id) FROM item")
                    cur.fetchone()
                worst = max(worst, time.perf_counter() - t0)
                time.sleep(0.05)
            results.append(("ok", worst))
        except Exception as exc:  # noqa: BLE001
            results.append(("error", exc))
        finally:
            conn.close()
    threads = [threading.Thread(target=reader) for _ in range(n_readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_the_settings_turn_on_wal_and_a_busy_timeout(db_file):
    conn = handler_for(db_file)["default"]
    with conn.cursor() as cur:
        cur.execute("PRAGMA journal_mode")
        assert cur.fetchone()[0] == "wal"
        cur.execute("PRAGMA busy_timeout")
        assert cur.fetchone()[0] >= 5000  # ms
    conn.close()


def test_readers_are_not_locked_out_while_a_worker_writes(db_file):
    started, errors = threading.Event(), []
    writer = threading.Thread(target=long_writer, args=(db_file, started, errors))
    writer.start()
    results = read_during(db_file, started)
    writer.join(60)
    assert not errors, errors
    assert [r[0] for r in results] == ["ok"] * 3, results
    assert max(r[1] for r in results) < HOLD / 2, results  # nobody waited for the writer's commit


def test_a_second_writer_waits_for_the_first_instead_of_failing(db_file):
    started, errors = threading.Event(), []
    writer = threading.Thread(target=long_writer, args=(db_file, started, errors))
    writer.start()
    started.wait(30)
    conn = handler_for(db_file)["default"]
    t0 = time.perf_counter()
    with _atomic(conn):
        with conn.cursor() as cur:
            cur.execute("INSERT INTO item (body) VALUES ('second')")
    waited = time.perf_counter() - t0
    writer.join(60)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM item")
        assert cur.fetchone()[0] == 2 + 2000  # both writers' rows
    conn.close()
    assert not errors, errors
    assert waited > 0.2  # it waited for the lock (busy timeout) rather than failing


def test_without_wal_a_spilling_writer_blocks_readers(tmp_path):
    """The control: the same workload in SQLite's default journal mode makes readers wait (so the
    test above measures what WAL gives)."""
    path = tmp_path / "rollback.sqlite3"
    conn = handler_for(path, init_command="PRAGMA journal_mode=DELETE")["default"]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT)")
    conn.close()
    started, errors = threading.Event(), []
    writer = threading.Thread(target=long_writer, args=(path, started, errors),
                              kwargs={"init_command": "PRAGMA journal_mode=DELETE"})
    writer.start()
    results = read_during(path, started, n_readers=1, init_command="PRAGMA journal_mode=DELETE", timeout=0.2)
    writer.join(60)
    assert results[0][0] == "error" or results[0][1] >= HOLD / 2, results

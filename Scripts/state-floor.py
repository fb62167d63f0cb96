#!/usr/bin/env python3
"""The floor under the SQLite state: N items through four stages with plain SQL, no orchestration.

What `StateBenchmark` measures through the real orchestrator, done here as directly as Python's
standard `sqlite3` allows: the same schema (`SQLiteStateStore.createSchema`), the same settings
(WAL, `synchronous=NORMAL`, `BEGIN IMMEDIATE`), the listing in one transaction, then per item the
five commits the orchestrator makes through four stages (each stage's `done` shares its commit
with the next stage's `started`; the last `done` shares one with `completed`):

    1. stages(fetch)=running, item in_progress at fetch
    2. stages(fetch)=done, stages(verify)=running, item at verify      (3 and 4 alike)
    5. stages(cleanup)=done, item completed

Each commit writes the same rows the store writes: an upsert per changed stage record and the whole
item row. No reads: the script knows every row (the store reads an item once, then keeps it).
The rerun reads every item in listing order and finds nothing to do, as `prepare` does.

Usage: state-floor.py N [--dir DIR]  -> prints one JSON line per phase, like StateBenchmark:
    {"phase": "first run", "items": N, "seconds": S, "microseconds_per_item": U, "commits": C, "peak_rss_bytes": B}
"""

import argparse
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time

STAGES = ["fetch", "verify", "upload", "cleanup"]

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items(
    path TEXT PRIMARY KEY, listed_order INTEGER NOT NULL, size INTEGER, modified TEXT,
    status TEXT NOT NULL, stage TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    first_failed REAL, last_failed REAL, skip_reason TEXT, updated_at REAL, completed_at REAL
) WITHOUT ROWID;
CREATE TABLE stages(
    path TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL,
    outputs TEXT, checkpoint TEXT, error TEXT, pid INTEGER, pid_start TEXT, updated_at REAL,
    PRIMARY KEY(path, stage)
) WITHOUT ROWID;
"""

UPSERT_STAGE = """
INSERT INTO stages(path, stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at)
VALUES (?, ?, ?, 1, ?, NULL, NULL, NULL, NULL, ?) ON CONFLICT(path, stage) DO UPDATE SET status = excluded.status,
    attempt = excluded.attempt, outputs = excluded.outputs, checkpoint = excluded.checkpoint, error = excluded.error,
    pid = excluded.pid, pid_start = excluded.pid_start, updated_at = excluded.updated_at
"""

UPDATE_ITEM = """
UPDATE items SET size = ?, modified = ?, status = ?, stage = ?, failures = 0, last_error = NULL, first_failed = NULL,
    last_failed = NULL, skip_reason = NULL, updated_at = ?, completed_at = ? WHERE path = ?
"""


def item_path(index):
    """The path StateBenchmark's synthetic source lists for item `index`."""
    return f"/library/folder{index // 500}/item{index}.jpg"


def open_state(path):
    """Opens the state as SQLiteStateStore does: WAL, synchronous=NORMAL, explicit transactions."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def commit(connection, statements):
    """One durable transaction, as the store's `transaction` runs it."""
    connection.execute("BEGIN IMMEDIATE")
    for sql, values in statements:
        connection.execute(sql, values)
    connection.execute("COMMIT")


def first_run(connection, count):
    """Lists `count` items in one transaction, then takes each through the stages; returns commits."""
    now = time.time()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO items(path, listed_order, size, modified, status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?)",
        ((item_path(i), i + 1, 1000 + i, "2026-01-01T00:00:00Z", now) for i in range(count)))
    connection.execute("COMMIT")
    commits = 1
    for i in range(count):
        path, size = item_path(i), 1000 + i
        for position, stage in enumerate(STAGES):
            now = time.time()
            statements = []
            if position > 0:
                statements.append((UPSERT_STAGE, (path, STAGES[position - 1], "done", "{}", now)))
            statements.append((UPSERT_STAGE, (path, stage, "running", None, now)))
            statements.append((UPDATE_ITEM, (size, "2026-01-01T00:00:00Z", "in_progress", stage, now, None, path)))
            commit(connection, statements)
            commits += 1
        now = time.time()
        commit(connection, [(UPSERT_STAGE, (path, STAGES[-1], "done", "{}", now)),
                            (UPDATE_ITEM, (size, "2026-01-01T00:00:00Z", "completed", STAGES[-1], now, now, path))])
        commits += 1
    return commits


def rerun(connection, count):
    """Reads every item in listing order and counts those left to do (none)."""
    rows = connection.execute("SELECT path, size, modified, status, stage, failures FROM items ORDER BY listed_order").fetchall()
    left = sum(1 for row in rows if row[3] not in ("completed", "skipped"))
    if len(rows) != count or left:
        sys.exit(f"state-floor: expected {count} completed items, found {len(rows)} with {left} left")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", type=int, help="number of items (1 to 100,000,000)")
    parser.add_argument("--dir", default=None, help="where the state file goes (default: a temporary directory)")
    arguments = parser.parse_args()
    if not 1 <= arguments.items <= 100_000_000:
        parser.error(f"items must be between 1 and 100,000,000, not {arguments.items}")
    with tempfile.TemporaryDirectory(prefix="state-floor-", dir=arguments.dir) as directory:
        state = os.path.join(directory, "floor.state")
        connection = open_state(state)
        connection.executescript(SCHEMA)
        for phase, body in (("first run", first_run), ("rerun (all done)", rerun)):
            start = time.perf_counter()
            commits = body(connection, arguments.items)
            seconds = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
            print(json.dumps({"phase": phase, "items": arguments.items, "seconds": seconds,
                              "microseconds_per_item": seconds * 1e6 / arguments.items, "commits": commits,
                              "peak_rss_bytes": peak}), flush=True)
        connection.close()


if __name__ == "__main__":
    main()

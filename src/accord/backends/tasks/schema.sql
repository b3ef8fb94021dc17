-- The task tables of the SQLite store; backends/sqlite_schema.sql says how these
-- files are read (one transaction; no semicolon or brace in comments).

-- One task: JSON of TaskRecord.to_json(), with its queue, status and claim holder
-- beside it for the indexes. Ids come from task_counter, never reused.
CREATE TABLE IF NOT EXISTS tasks (
    ns     TEXT NOT NULL,
    id     INTEGER NOT NULL,
    queue  TEXT NOT NULL,
    status TEXT NOT NULL,
    holder TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, id)
) WITHOUT ROWID;

-- Listings by status, counts, pruning.
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (ns, queue, status, id);

-- The claims of a holder (task_revoke): claimed tasks only.
CREATE INDEX IF NOT EXISTS tasks_by_holder ON tasks (ns, holder) WHERE holder IS NOT NULL;

-- The counter of task ids and claim tokens of a namespace.
CREATE TABLE IF NOT EXISTS task_counter (
    ns   TEXT NOT NULL PRIMARY KEY,
    last INTEGER NOT NULL
) WITHOUT ROWID;

-- Idempotency keys.
CREATE TABLE IF NOT EXISTS task_keys (
    ns    TEXT NOT NULL,
    queue TEXT NOT NULL,
    key   TEXT NOT NULL,
    id    INTEGER NOT NULL,
    PRIMARY KEY (ns, queue, key)
) WITHOUT ROWID;

-- Ready tasks by lane (tasks/rule.py), in claim order: the primary key is the order,
-- so the best task of a lane is one seek, whatever the number of ready tasks.
CREATE TABLE IF NOT EXISTS task_ready (
    ns       TEXT NOT NULL,
    queue    TEXT NOT NULL,
    lane     TEXT NOT NULL,
    rank     INTEGER NOT NULL,
    id       INTEGER NOT NULL,
    PRIMARY KEY (ns, queue, lane, rank, id)
) WITHOUT ROWID;

-- Timed changes by when they are due (monotonic time): a delay or a failed task's
-- wait ends, a claim's lease runs out.
CREATE TABLE IF NOT EXISTS task_due (
    ns     TEXT NOT NULL,
    queue  TEXT NOT NULL,
    run_at REAL NOT NULL,
    id     INTEGER NOT NULL,
    PRIMARY KEY (ns, queue, run_at, id)
) WITHOUT ROWID;

-- Claimers waiting for work, first come first woken.
CREATE TABLE IF NOT EXISTS task_waiters (
    ns      TEXT NOT NULL,
    queue   TEXT NOT NULL,
    waiter  TEXT NOT NULL,
    since   REAL NOT NULL,
    lanes   TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (ns, queue, waiter)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS task_waiters_in_order ON task_waiters (ns, queue, since);

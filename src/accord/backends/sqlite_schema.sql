-- The accord SQLite schema. Every table is keyed by namespace first, and every
-- operation of the seam finds its rows through a primary key.
-- Statements are separated by semicolons (none inside comments) and run in one
-- BEGIN IMMEDIATE transaction, so processes opening a new file at once agree.

-- boot_id: the machine boot the stored monotonic times belong to.
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One lease key (lock/<name>, sem/<name>): JSON of LeaseRecord.to_json().
CREATE TABLE IF NOT EXISTS leases (
    ns     TEXT NOT NULL,
    key    TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The lease key each queued holder waits for (deadlock detection).
CREATE TABLE IF NOT EXISTS waits (
    ns         TEXT NOT NULL,
    holder     TEXT NOT NULL,
    key        TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (ns, holder)
) WITHOUT ROWID;

-- The last HISTORY_KEEP versions of each state key (value NULL: a delete).
-- A rowid table, because values may be large.
CREATE TABLE IF NOT EXISTS versions (
    ns          TEXT NOT NULL,
    map         TEXT NOT NULL,
    key         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    value       TEXT,
    updated_by  TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    fence_name  TEXT,
    fence_token INTEGER NOT NULL,
    PRIMARY KEY (ns, map, key, version)
);

-- GCRA theoretical arrival time per rate-limit key.
CREATE TABLE IF NOT EXISTS rates (
    ns  TEXT NOT NULL,
    key TEXT NOT NULL,
    tat REAL NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

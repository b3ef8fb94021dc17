-- The accord SQLite schema. Every table is keyed by namespace first, and every
-- operation of the seam finds its rows through a primary key.
-- Statements end with a semicolon (none inside comments) and run in one BEGIN
-- IMMEDIATE transaction, so processes opening a new file at once agree. A name in
-- braces is a constant of accord.backends._core, put in by _sqlite_file._schema()
-- (so no other braces here).
-- WITHOUT ROWID tables keep each row in its primary-key b-tree: one b-tree to write
-- instead of two. A row over ~1/20 of a page spills to overflow pages, which works
-- (a 900 kB state value writes ~25% slower than in a rowid table, small ones faster).

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

-- The last versions of each state key (value NULL: a delete).
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
) WITHOUT ROWID;

-- The version rule, in one place: a key's next version is its newest + 1 (1 for a
-- key with no versions). Any other
-- insert is skipped (no error, no row changed), so the one-statement write of a
-- version after the newest this process saw is a compare-and-set on its own: it
-- changes no row if another writer came first, even one whose trims have since
-- deleted the version it would repeat. Measured: ~1 us per insert, against ~4 us
-- for the same check as INSERT ... SELECT (SQLite copies such a select into a
-- temporary table first, as it reads the table being written).
CREATE TRIGGER IF NOT EXISTS versions_next BEFORE INSERT ON versions
WHEN NEW.version <> 1 + coalesce((
    SELECT max(version) FROM versions
    WHERE ns = NEW.ns AND map = NEW.map AND key = NEW.key
), 0)
BEGIN
    SELECT RAISE(IGNORE);
END;

-- History keeps the newest {HISTORY_KEEP} versions of a key: every {TRIM_SLACK}th version
-- drops those below, in the transaction that adds it (versions are consecutive, so
-- that is one range of the primary key). The numbers are _core.HISTORY_KEEP and
-- TRIM_SLACK, put in when a file is created.
CREATE TRIGGER IF NOT EXISTS versions_trim AFTER INSERT ON versions
WHEN NEW.version % {TRIM_SLACK} = 0 AND NEW.version > {HISTORY_KEEP}
BEGIN
    DELETE FROM versions
    WHERE ns = NEW.ns AND map = NEW.map AND key = NEW.key
    AND version <= NEW.version - {HISTORY_KEEP};
END;

-- GCRA theoretical arrival time per rate-limit key.
CREATE TABLE IF NOT EXISTS rates (
    ns  TEXT NOT NULL,
    key TEXT NOT NULL,
    tat REAL NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The event log. Ids are consecutive per namespace: the next is the newest + 1, and
-- retention never deletes the newest event, so an id is never given twice. The oldest
-- beyond max_events are deleted by the append that pushes them out. No index on name
-- or source: each would make every append write one more page (emit measured 1.3 to
-- 1.8 times slower with both). history(name=...) walks back from the newest event
-- instead: about 14 ms over 100,000 events for a name that never occurs.
CREATE TABLE IF NOT EXISTS events (
    ns     TEXT NOT NULL,
    id     INTEGER NOT NULL,
    name   TEXT NOT NULL,
    data   TEXT NOT NULL,
    source TEXT NOT NULL,
    time   REAL NOT NULL,
    PRIMARY KEY (ns, id)
) WITHOUT ROWID;

-- One consumer group: the id of the last event it handed out.
CREATE TABLE IF NOT EXISTS groups (
    ns     TEXT NOT NULL,
    grp    TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    PRIMARY KEY (ns, grp)
) WITHOUT ROWID;

-- An event of a group handed to a consumer until deadline (monotonic time), a row
-- each so that acknowledging one (deleting it) costs the same however many are out.
CREATE TABLE IF NOT EXISTS group_claims (
    ns       TEXT NOT NULL,
    grp      TEXT NOT NULL,
    id       INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    deadline REAL NOT NULL,
    PRIMARY KEY (ns, grp, id)
) WITHOUT ROWID;

-- One barrier: JSON of BarrierRecord (round and the mailboxes of its waiters).
CREATE TABLE IF NOT EXISTS barriers (
    ns     TEXT NOT NULL,
    name   TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, name)
) WITHOUT ROWID;

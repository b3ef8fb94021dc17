-- The lease and barrier tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

-- One lease key (lock/<name>, sem/<name>): JSON of LeaseRecord.to_json().
CREATE TABLE IF NOT EXISTS leases (
    ns     TEXT NOT NULL,
    key    TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The lease keys listings walk, so that they cost what is live, not every name ever
-- used (a released record stays, as it keeps the fencing token). A key enters when
-- its lease gets a holder or waiter (the triggers below: the record of an idle lease,
-- compact JSON, ends with two empty lists) and leaves when a listing finds it idle.
-- Leaving at release instead would write this table twice in every lock cycle: an
-- uncontended cycle on a key already listed writes nothing here.
CREATE TABLE IF NOT EXISTS leases_listed (
    ns  TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS leases_listed_on_update AFTER UPDATE OF record ON leases
WHEN substr(NEW.record, -7) <> ',[],[]]' AND substr(OLD.record, -7) = ',[],[]]'
BEGIN
    INSERT OR IGNORE INTO leases_listed (ns, key) VALUES (NEW.ns, NEW.key);
END;

CREATE TRIGGER IF NOT EXISTS leases_listed_on_insert AFTER INSERT ON leases
WHEN substr(NEW.record, -7) <> ',[],[]]'
BEGIN
    INSERT OR IGNORE INTO leases_listed (ns, key) VALUES (NEW.ns, NEW.key);
END;

-- The lease key each queued holder waits for (deadlock detection).
CREATE TABLE IF NOT EXISTS waits (
    ns         TEXT NOT NULL,
    holder     TEXT NOT NULL,
    key        TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (ns, holder)
) WITHOUT ROWID;

-- One barrier: JSON of BarrierRecord (round and the mailboxes of its waiters).
CREATE TABLE IF NOT EXISTS barriers (
    ns     TEXT NOT NULL,
    name   TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, name)
) WITHOUT ROWID;

-- Counters of coord.metrics() by lease key: JSON of the list leases.rule.METRICS names.
-- Written only when an operation waited, timed out, deadlocked, lost or revoked a
-- lease (acquisitions are the lease's last token), so an uncontended cycle never does.
CREATE TABLE IF NOT EXISTS lease_metrics (
    ns      TEXT NOT NULL,
    key     TEXT NOT NULL,
    counted TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The newest token of a lease that was revoked (a kill, a dead session reaped, a force
-- release): a fenced state write with it or an older one is refused.
CREATE TABLE IF NOT EXISTS fence_floors (
    ns    TEXT NOT NULL,
    key   TEXT NOT NULL,
    token INTEGER NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The lease and barrier tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

-- One lease key (lock/<name>, sem/<name>): JSON of LeaseRecord.to_json(). A lease of
-- at most holders.INLINE_MAX holders (every lock) keeps them in the record, so that
-- an uncontended lock cycle writes one row. One with more keeps them in lease_holders
-- and its record their count by mode and a bound on their soonest expiry
-- (sqlite_holders.py), so that an operation reads and writes O(log holders) pages.
CREATE TABLE IF NOT EXISTS leases (
    ns     TEXT NOT NULL,
    key    TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The holders of the leases whose record says they are here (see above): found by
-- holder, by the soonest expiry (dropping the expired) and by the oldest token (whom
-- a refused request waits for).
CREATE TABLE IF NOT EXISTS lease_holders (
    ns         TEXT NOT NULL,
    key        TEXT NOT NULL,
    holder     TEXT NOT NULL,
    agent      TEXT NOT NULL,
    token      INTEGER NOT NULL,
    ttl        REAL NOT NULL,
    expires_at REAL NOT NULL,
    mode       TEXT NOT NULL,
    intent     TEXT NOT NULL,
    PRIMARY KEY (ns, key, holder)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS lease_holders_by_expiry ON lease_holders (ns, key, expires_at);

CREATE INDEX IF NOT EXISTS lease_holders_by_token ON lease_holders (ns, key, token);

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

-- The lease and barrier tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

-- One lease key (lock/<name>, sem/<name>): JSON of LeaseRecord.to_json().
CREATE TABLE IF NOT EXISTS leases (
    ns     TEXT NOT NULL,
    key    TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The leases with holders or waiters: the record of an idle one (compact JSON) ends
-- with two empty lists. Listings walk this index, so they cost what is live, not
-- every name ever used (a released record stays, as it keeps the fencing token).
-- The condition is written the same way in the lease_keys query.
CREATE INDEX IF NOT EXISTS leases_live ON leases (ns, key)
    WHERE substr(record, -7) <> ',[],[]]';

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

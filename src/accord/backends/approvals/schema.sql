-- The approval tables of the SQLite store; backends/sqlite_schema.sql says how these
-- files are read (one transaction; no semicolon or brace in comments).

-- One request: JSON of ApprovalRecord.to_json() (approvals/rule.py).
CREATE TABLE IF NOT EXISTS approvals (
    ns     TEXT NOT NULL,
    id     TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (ns, id)
) WITHOUT ROWID;

-- The pending requests by deadline (microseconds of the wall clock): what listings
-- and the sweep of overdue requests walk. A decided request leaves it.
CREATE TABLE IF NOT EXISTS approvals_pending (
    ns       TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    id       TEXT NOT NULL,
    PRIMARY KEY (ns, deadline, id)
) WITHOUT ROWID;

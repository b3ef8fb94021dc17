-- The tables of the agents feature on SQLite; backends/sqlite_schema.sql says how these
-- files are read (one transaction; no semicolon or brace in comments).

-- One registered agent: JSON of AgentRecord but for expires_at (monotonic clock) and
-- progress (wall time), which are columns here, indexed with live (1 while its state
-- is live) so that reaping and hung() walk what they return, not every agent.
CREATE TABLE IF NOT EXISTS agents (
    ns         TEXT NOT NULL,
    name       TEXT NOT NULL,
    record     TEXT NOT NULL,
    live       INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    progress   REAL NOT NULL,
    PRIMARY KEY (ns, name)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS agents_by_expiry ON agents (ns, live, expires_at);

CREATE INDEX IF NOT EXISTS agents_by_progress ON agents (ns, live, progress);

-- A halted namespace: a row while it is halted (the lease step checks it).
CREATE TABLE IF NOT EXISTS halts (
    ns     TEXT NOT NULL PRIMARY KEY,
    reason TEXT NOT NULL
) WITHOUT ROWID;

-- The rate-limit tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

-- GCRA theoretical arrival time per rate-limit key.
CREATE TABLE IF NOT EXISTS rates (
    ns  TEXT NOT NULL,
    key TEXT NOT NULL,
    tat REAL NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

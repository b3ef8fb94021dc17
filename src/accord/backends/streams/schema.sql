-- The stream tables of the SQLite store; backends/sqlite_schema.sql says how these
-- files are read (one transaction; no semicolon or brace in comments).

-- One stream: its last id, the hash of its last entry and the newest id retention
-- dropped (see streams/rule.py).
CREATE TABLE IF NOT EXISTS streams (
    ns    TEXT NOT NULL,
    name  TEXT NOT NULL,
    last  INTEGER NOT NULL,
    head  TEXT NOT NULL,
    base  INTEGER NOT NULL,
    PRIMARY KEY (ns, name)
) WITHOUT ROWID;

-- Its entries, by id (time in microseconds of the wall clock, data canonical JSON).
CREATE TABLE IF NOT EXISTS stream_entries (
    ns     TEXT NOT NULL,
    name   TEXT NOT NULL,
    id     INTEGER NOT NULL,
    time   INTEGER NOT NULL,
    source TEXT NOT NULL,
    data   TEXT NOT NULL,
    prev   TEXT NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (ns, name, id)
) WITHOUT ROWID;

-- The event-log tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

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

-- The state tables of the SQLite store; backends/sqlite_schema.sql says how
-- these files are read (one transaction; no semicolon or brace in comments).

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
-- that is one range of the primary key). The numbers are state/rule.py's HISTORY_KEEP
-- and TRIM_SLACK, put in when a file is created.
CREATE TRIGGER IF NOT EXISTS versions_trim AFTER INSERT ON versions
WHEN NEW.version % {TRIM_SLACK} = 0 AND NEW.version > {HISTORY_KEEP}
BEGIN
    DELETE FROM versions
    WHERE ns = NEW.ns AND map = NEW.map AND key = NEW.key
    AND version <= NEW.version - {HISTORY_KEEP};
END;

-- The accord SQLite schema: this file's table, then each feature's schema.sql
-- (leases/, state/, rates/, events/), read by backends/_sql.py. Every table is
-- keyed by namespace first, and every operation of the seam finds its rows through
-- a primary key.
-- Statements end with a semicolon (none inside comments) and run in one BEGIN
-- IMMEDIATE transaction, so processes opening a new file at once agree. A name in
-- braces is a constant of a feature's rule, put in by _sqlite_file._schema()
-- (so no other braces in these files).
-- WITHOUT ROWID tables keep each row in its primary-key b-tree: one b-tree to write
-- instead of two. A row over ~1/20 of a page spills to overflow pages, which works
-- (a 900 kB state value writes ~25% slower than in a rowid table, small ones faster).

-- boot_id: the machine boot the stored monotonic times belong to.
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

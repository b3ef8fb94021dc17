-- The named queries of the agents feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_agent
SELECT record, expires_at, progress FROM agents WHERE ns = ? AND name = ?;

-- name: save_agent
INSERT OR REPLACE INTO agents (ns, name, record, live, expires_at, progress)
VALUES (?, ?, ?, ?, ?, ?);

-- name: delete_agent
DELETE FROM agents WHERE ns = ? AND name = ?;

-- name: agents_after
SELECT record, expires_at, progress FROM agents WHERE ns = ? AND name > ?
ORDER BY name LIMIT ?;

-- name: agents_lapsed
SELECT record, expires_at, progress FROM agents
WHERE ns = ? AND live = 1 AND expires_at <= ? ORDER BY expires_at LIMIT ?;

-- name: agents_stalled
SELECT record, expires_at, progress FROM agents
WHERE ns = ? AND live = 1 AND progress < ? ORDER BY progress LIMIT ?;

-- name: load_halt
SELECT reason FROM halts WHERE ns = ?;

-- name: save_halt
INSERT OR REPLACE INTO halts (ns, reason) VALUES (?, ?);

-- name: drop_halt
DELETE FROM halts WHERE ns = ?;

-- The tables of a file that have a namespace column (drop_namespace empties them all,
-- whichever feature made them).
-- name: namespaced_tables
SELECT m.name FROM sqlite_master AS m
WHERE m.type = 'table' AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'ns');

-- The named queries of the rates feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_tat
SELECT tat FROM rates WHERE ns = ? AND key = ?;

-- name: save_tat
INSERT OR REPLACE INTO rates (ns, key, tat) VALUES (?, ?, ?);

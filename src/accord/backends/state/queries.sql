-- The named queries of the state feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_current
SELECT value, version, updated_by, updated_at, fence_name, fence_token FROM versions WHERE ns = ? AND map = ? AND key = ? ORDER BY version DESC LIMIT 1;

-- name: load_history
SELECT value, version, updated_by, updated_at, fence_name, fence_token FROM versions WHERE ns = ? AND map = ? AND key = ? ORDER BY version DESC LIMIT ?;

-- Changes no row unless the version is the key's newest + 1 (trigger versions_next
-- in schema.sql). No fence is bound as '' (stored NULL): sqlite3 binds None only
-- after a failed adapter lookup, ~3 % of a compare-and-set.
-- name: save_version
INSERT INTO versions (ns, map, key, value, version, updated_by, updated_at, fence_name, fence_token) VALUES (?, ?, ?, ?, ?, ?, ?, nullif(?, ''), ?);

-- SQLite takes the other columns of a MAX() aggregate from the row holding the max.
-- name: live_items
SELECT key, value, MAX(version), updated_by, updated_at, fence_name, fence_token FROM versions WHERE ns = ? AND map = ? AND key >= ? AND key < ? AND substr(key, 1, ?) = ? GROUP BY key;

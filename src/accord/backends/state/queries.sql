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

-- A fenced write in one statement: nothing is written when the fence's lease (?10)
-- was revoked at or after its token (leases/schema.sql, fence_floors), and the
-- transaction then raises StaleFence.
-- name: save_fenced_version
INSERT INTO versions (ns, map, key, value, version, updated_by, updated_at, fence_name, fence_token) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, ''), ?9 WHERE NOT EXISTS (SELECT 1 FROM fence_floors WHERE ns = ?1 AND key = ?10 AND token >= ?11);

-- A page of a map's keys: walk_keys steps from key to key along the primary key,
-- one seek each (the versions of a key are skipped, not read), for at most ?5 keys
-- from ?3 (inclusive) below ?4, so a page costs what it walks, not the map's size.
-- Deleted keys are walked too (their newest version is a tombstone): the caller
-- drops them. key_page says which keys are live without reading a value; item_page
-- reads the newest version of each.
-- name: key_page
WITH RECURSIVE walk(key) AS (
    SELECT (SELECT key FROM versions WHERE ns = ?1 AND map = ?2 AND key >= ?3 AND key < ?4 ORDER BY key LIMIT 1)
    UNION ALL
    SELECT (SELECT key FROM versions WHERE ns = ?1 AND map = ?2 AND key > walk.key AND key < ?4 ORDER BY key LIMIT 1)
    FROM walk WHERE walk.key IS NOT NULL LIMIT ?5
)
SELECT walk.key, (SELECT value IS NOT NULL FROM versions WHERE ns = ?1 AND map = ?2 AND key = walk.key ORDER BY version DESC LIMIT 1) FROM walk WHERE walk.key IS NOT NULL;

-- name: item_page
WITH RECURSIVE walk(key) AS (
    SELECT (SELECT key FROM versions WHERE ns = ?1 AND map = ?2 AND key >= ?3 AND key < ?4 ORDER BY key LIMIT 1)
    UNION ALL
    SELECT (SELECT key FROM versions WHERE ns = ?1 AND map = ?2 AND key > walk.key AND key < ?4 ORDER BY key LIMIT 1)
    FROM walk WHERE walk.key IS NOT NULL LIMIT ?5
)
SELECT walk.key, v.value, v.version, v.updated_by, v.updated_at, v.fence_name, v.fence_token
FROM walk CROSS JOIN versions AS v
WHERE walk.key IS NOT NULL AND v.ns = ?1 AND v.map = ?2 AND v.key = walk.key
AND v.version = (SELECT max(version) FROM versions WHERE ns = ?1 AND map = ?2 AND key = walk.key);

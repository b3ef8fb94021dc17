-- The named queries of the leases feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_lease
SELECT record FROM leases WHERE ns = ? AND key = ?;

-- name: save_lease
INSERT OR REPLACE INTO leases (ns, key, record) VALUES (?, ?, ?);

-- One lease operation as one statement; accord_lease() runs the rule (see
-- SqliteBackend._lease_step).
-- name: step_lease
UPDATE leases SET record = accord_lease(record) WHERE ns = ? AND key = ?;

-- The live lease keys under a prefix, from the leases_live index (see schema.sql).
-- The bounds and substr come from sqlite._prefix_range: a range of the index, kept
-- exact (LIKE would treat % and _ in names as wildcards).
-- name: lease_keys
SELECT key FROM leases INDEXED BY leases_live
WHERE ns = ? AND key >= ? AND key < ? AND substr(key, 1, ?) = ?
    AND substr(record, -7) <> ',[],[]]';

-- name: load_wait
SELECT key, expires_at FROM waits WHERE ns = ? AND holder = ?;

-- name: save_wait
INSERT OR REPLACE INTO waits (ns, holder, key, expires_at) VALUES (?, ?, ?, ?);

-- name: drop_wait
DELETE FROM waits WHERE ns = ? AND holder = ?;

-- name: load_barrier
SELECT record FROM barriers WHERE ns = ? AND name = ?;

-- name: save_barrier
INSERT OR REPLACE INTO barriers (ns, name, record) VALUES (?, ?, ?);

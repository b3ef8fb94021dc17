-- The named queries of the leases feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_lease
SELECT record FROM leases WHERE ns = ? AND key = ?;

-- name: save_lease
INSERT OR REPLACE INTO leases (ns, key, record) VALUES (?, ?, ?);

-- One lease operation as one statement; accord_lease() runs the rule (see
-- SqliteBackend._lease_step). In a halted namespace (agents/schema.sql) it changes
-- nothing, and the transaction decides (a release goes on, an acquisition is refused).
-- name: step_lease
UPDATE leases SET record = accord_lease(record) WHERE ns = ?1 AND key = ?2
AND NOT EXISTS (SELECT 1 FROM halts WHERE ns = ?1);

-- The listed lease keys under a prefix (see leases_listed in schema.sql). The bounds
-- and substr come from sqlite._prefix_range: a range of the primary key, kept exact
-- (LIKE would treat % and _ in names as wildcards).
-- name: lease_keys
SELECT key FROM leases_listed
WHERE ns = ? AND key >= ? AND key < ? AND substr(key, 1, ?) = ?;

-- Layout 1 to 2: a file made before leases_listed lists its live leases.
-- name: list_live_leases
INSERT OR IGNORE INTO leases_listed (ns, key)
SELECT ns, key FROM leases WHERE substr(record, -7) <> ',[],[]]';

-- A key a listing found idle leaves the list, unless it is live again by now.
-- name: unlist_lease
DELETE FROM leases_listed WHERE ns = ?1 AND key = ?2 AND EXISTS (
    SELECT 1 FROM leases WHERE ns = ?1 AND key = ?2 AND substr(record, -7) = ',[],[]]'
);

-- The holders of a lease kept in rows (sqlite_holders.py): each by an index.
-- name: load_holder
SELECT agent, token, ttl, expires_at, mode, intent FROM lease_holders
WHERE ns = ? AND key = ? AND holder = ?;

-- name: save_holder
INSERT OR REPLACE INTO lease_holders
(ns, key, holder, agent, token, ttl, expires_at, mode, intent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: drop_holder
DELETE FROM lease_holders WHERE ns = ? AND key = ? AND holder = ?;

-- name: extend_holder
UPDATE lease_holders SET ttl = ?, expires_at = ? WHERE ns = ? AND key = ? AND holder = ?;

-- name: soonest_holder
SELECT expires_at FROM lease_holders WHERE ns = ? AND key = ? ORDER BY expires_at LIMIT 1;

-- name: expired_holders
SELECT holder, mode FROM lease_holders WHERE ns = ? AND key = ? AND expires_at <= ?
ORDER BY expires_at;

-- name: drop_expired_holders
DELETE FROM lease_holders WHERE ns = ? AND key = ? AND expires_at <= ?;

-- name: first_holder
SELECT holder, agent, token, ttl, expires_at, mode, intent FROM lease_holders
WHERE ns = ? AND key = ? ORDER BY token LIMIT 1;

-- name: all_holders
SELECT holder, agent, token, ttl, expires_at, mode, intent FROM lease_holders
WHERE ns = ? AND key = ? ORDER BY token;

-- name: drop_holders
DELETE FROM lease_holders WHERE ns = ? AND key = ?;

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

-- name: load_metric
SELECT counted FROM lease_metrics WHERE ns = ? AND key = ?;

-- name: save_metric
INSERT OR REPLACE INTO lease_metrics (ns, key, counted) VALUES (?, ?, ?);

-- name: metrics_under
SELECT key, counted FROM lease_metrics WHERE ns = ? AND substr(key, 1, ?) = ?;

-- name: records_under
SELECT key, record FROM leases WHERE ns = ? AND substr(key, 1, ?) = ?;

-- name: load_floor
SELECT token FROM fence_floors WHERE ns = ? AND key = ?;

-- name: raise_floor
INSERT INTO fence_floors (ns, key, token) VALUES (?1, ?2, ?3)
ON CONFLICT (ns, key) DO UPDATE SET token = max(token, excluded.token);

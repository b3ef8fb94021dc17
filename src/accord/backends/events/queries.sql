-- The named queries of the events feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- The end of one key range.
-- name: last_event
SELECT max(id) FROM events WHERE ns = ?;

-- name: save_event
INSERT INTO events (ns, id, name, data, source, time) VALUES (?, ?, ?, ?, ?, ?);

-- name: trim_events
DELETE FROM events WHERE ns = ? AND id <= ?;

-- name: events_after
SELECT id, name, data, source, time FROM events WHERE ns = ? AND id > ? ORDER BY id LIMIT ?;

-- name: event_by_id
SELECT id, name, data, source, time FROM events WHERE ns = ? AND id = ?;

-- {} is where the filters on name and source go (sqlite.py fills it in).
-- name: event_history
SELECT id, name, data, source, time FROM events WHERE ns = ?{} ORDER BY id DESC LIMIT ?;

-- name: load_group
SELECT cursor FROM groups WHERE ns = ? AND grp = ?;

-- name: save_group
INSERT OR REPLACE INTO groups (ns, grp, cursor) VALUES (?, ?, ?);

-- name: expired_claims
SELECT id, consumer, deadline FROM group_claims WHERE ns = ? AND grp = ? AND deadline <= ?;

-- name: save_claim
INSERT OR REPLACE INTO group_claims (ns, grp, id, consumer, deadline) VALUES (?, ?, ?, ?, ?);

-- name: drop_claim
DELETE FROM group_claims WHERE ns = ? AND grp = ? AND id = ?;

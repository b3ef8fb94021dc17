-- The named queries of the streams feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_stream
SELECT last, head, base FROM streams WHERE ns = ? AND name = ?;

-- name: save_stream
INSERT OR REPLACE INTO streams (ns, name, last, head, base) VALUES (?, ?, ?, ?, ?);

-- Move a stream's meta on from the one this process saw last, if it is still that one
-- (see sqlite.py, SqliteStreams._stream_add).
-- name: advance_stream
UPDATE streams SET last = ?, head = ?, base = ?
WHERE ns = ? AND name = ? AND last = ? AND head = ? AND base = ?;

-- name: add_stream_entry
INSERT INTO stream_entries (ns, name, id, time, source, data, prev, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: drop_stream_entries
DELETE FROM stream_entries WHERE ns = ? AND name = ? AND id <= ?;

-- name: stream_entries
SELECT id, time, source, data, prev, hash FROM stream_entries
WHERE ns = ? AND name = ? AND id > ? ORDER BY id LIMIT ?;

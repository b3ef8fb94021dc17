-- The named queries of the tasks feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_task
SELECT record FROM tasks WHERE ns = ? AND id = ?;

-- name: insert_task
INSERT INTO tasks (ns, id, queue, status, holder, record) VALUES (?, ?, ?, ?, ?, ?);

-- name: update_task
UPDATE tasks SET status = ?, holder = ?, record = ? WHERE ns = ? AND id = ?;

-- name: delete_task
DELETE FROM tasks WHERE ns = ? AND id = ?;

-- The next number in one statement (SQLite 3.35 and later: RETURNING).
-- name: next_counter
INSERT INTO task_counter (ns, last) VALUES (?, 1)
ON CONFLICT (ns) DO UPDATE SET last = last + 1 RETURNING last;

-- name: bump_counter
UPDATE task_counter SET last = last + 1 WHERE ns = ?;

-- name: start_counter
INSERT INTO task_counter (ns, last) VALUES (?, 1);

-- name: read_counter
SELECT last FROM task_counter WHERE ns = ?;

-- name: load_key
SELECT id FROM task_keys WHERE ns = ? AND queue = ? AND key = ?;

-- name: save_key
INSERT OR REPLACE INTO task_keys (ns, queue, key, id) VALUES (?, ?, ?, ?);

-- name: drop_key
DELETE FROM task_keys WHERE ns = ? AND queue = ? AND key = ?;

-- name: add_ready
INSERT OR IGNORE INTO task_ready (ns, queue, lane, rank, id) VALUES (?, ?, ?, ?, ?);

-- name: drop_ready
DELETE FROM task_ready WHERE ns = ? AND queue = ? AND lane = ? AND rank = ? AND id = ?;

-- name: first_ready
SELECT rank, id FROM task_ready WHERE ns = ? AND queue = ? AND lane = ?
ORDER BY rank, id LIMIT 1;

-- The best ready task of a claim's lanes, loaded, in one statement: take_ready with a
-- lane_head per lane (?LANE numbered from ?3 on), joined by UNION ALL, for LANE_HEADS
-- (tasks/_sqlite.py). Each head is one seek, whatever the number of ready tasks.
-- name: lane_head
SELECT * FROM (SELECT rank, id FROM task_ready WHERE ns = ?1 AND queue = ?2 AND lane = ?LANE
ORDER BY rank, id LIMIT 1);

-- name: take_ready
SELECT record FROM tasks WHERE ns = ?1 AND id = (SELECT id FROM (LANE_HEADS)
ORDER BY rank, id LIMIT 1);

-- name: add_due
INSERT OR IGNORE INTO task_due (ns, queue, run_at, id) VALUES (?, ?, ?, ?);

-- name: drop_due
DELETE FROM task_due WHERE ns = ? AND queue = ? AND run_at = ? AND id = ?;

-- name: first_due
SELECT run_at, id FROM task_due WHERE ns = ? AND queue = ? ORDER BY run_at, id LIMIT ?;

-- name: due_by
SELECT run_at, id FROM task_due WHERE ns = ? AND queue = ? AND run_at <= ?
ORDER BY run_at, id LIMIT ?;

-- A waiter asking again keeps its place (since).
-- name: set_waiter
INSERT INTO task_waiters (ns, queue, waiter, since, lanes, expires) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (ns, queue, waiter) DO UPDATE SET lanes = excluded.lanes, expires = excluded.expires;

-- name: drop_waiter
DELETE FROM task_waiters WHERE ns = ? AND queue = ? AND waiter = ?;

-- name: first_waiters
SELECT waiter, lanes, expires FROM task_waiters WHERE ns = ? AND queue = ?
ORDER BY since LIMIT ?;

-- The claim of one holder (a claim handed to a waiter: tasks/rule.py, handed).
-- name: claim_of
SELECT id FROM tasks WHERE ns = ? AND holder = ? LIMIT 1;

-- name: claims
SELECT id, holder FROM tasks WHERE ns = ? AND holder IS NOT NULL;

-- name: page_of_status
SELECT record FROM tasks WHERE ns = ? AND queue = ? AND status = ? AND id > ?
ORDER BY id LIMIT ?;

-- Every task of the namespace from an id on (a listing of any status keeps those of
-- its queue).
-- name: page_of_all
SELECT id, queue, record FROM tasks WHERE ns = ? AND id > ? ORDER BY id LIMIT ?;

-- name: counts
SELECT status, count(*) FROM tasks WHERE ns = ? AND queue = ? GROUP BY status;

-- After a reboot: every timed change is due (a claim of the old boot has ended), and
-- no claimer of the old boot waits.
-- name: forget_boot_due
UPDATE task_due SET run_at = 0;

-- name: forget_boot_waiters
DELETE FROM task_waiters;

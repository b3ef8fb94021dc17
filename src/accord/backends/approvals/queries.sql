-- The named queries of the approvals feature on SQLite, loaded by backends/_sql.py:
-- each follows a '-- name: <name>' line and ends with a semicolon.

-- name: load_approval
SELECT record FROM approvals WHERE ns = ? AND id = ?;

-- name: save_approval
INSERT OR REPLACE INTO approvals (ns, id, record) VALUES (?, ?, ?);

-- name: list_pending
INSERT OR IGNORE INTO approvals_pending (ns, deadline, id) VALUES (?, ?, ?);

-- name: unlist_pending
DELETE FROM approvals_pending WHERE ns = ? AND deadline = ? AND id = ?;

-- name: overdue_approvals
SELECT id FROM approvals_pending WHERE ns = ? AND deadline <= ? ORDER BY deadline LIMIT ?;

-- name: pending_approvals
SELECT a.record FROM approvals_pending AS p JOIN approvals AS a ON a.ns = p.ns AND a.id = p.id
WHERE p.ns = ? AND p.deadline > ? ORDER BY p.deadline LIMIT ?;

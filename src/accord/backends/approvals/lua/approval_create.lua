-- Store a pending request: approvals/rule.py.
-- KEYS: the request's hash, the pending set   ARGV: prefix, id, action (JSON),
-- details (JSON), requester, approvers (JSON list or ''), ttl (microseconds)
-- Reply: the request's fields (HGETALL)
-- @helpers
local ak, pk = KEYS[1], KEYS[2]
local now = now_us()
local deadline = string.format('%.0f', tonumber(now) + tonumber(ARGV[7]))
redis.call('HSET', ak, 'id', ARGV[2], 'action', ARGV[3], 'details', ARGV[4], 'by', ARGV[5],
  'approvers', ARGV[6], 'created', now, 'deadline', deadline, 'status', 'pending',
  'decided_by', '', 'reason', 'null', 'decided', '0', 'watchers', '')
redis.call('ZADD', pk, deadline, ARGV[2])
return redis.call('HGETALL', ak)

-- Free a lease and hand its slot to the queue head: rule.release.
-- KEYS: lease hash   ARGV: prefix, key, holder, token
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk, qk = KEYS[1], ARGV[1] .. 'queue:' .. ARGV[2]
local field = 'h:' .. ARGV[3]
local v = redis.call('HGET', lk, field)
if not v then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local exp, tok = string.match(v, '^(%d+) (%d+) ')
if tonumber(tok) ~= tonumber(ARGV[4]) or tonumber(exp) <= now then
  return 0
end
redis.call('HDEL', lk, field)
if redis.call('LLEN', qk) == 0 then
  return 1
end
-- @helpers (inserted just above, so a release without waiters does not define them)
promote(lk, qk, P .. 'waiter:' .. ARGV[2], load_lease(lk, now, true), ARGV[2], now)
return 1

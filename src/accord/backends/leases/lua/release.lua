-- Free a lease and hand its slot to the queue head: rule.release.
-- KEYS: lease hash   ARGV: prefix, key, holder, token
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk, key, holder = KEYS[1], ARGV[2], ARGV[3]
local now = now_us()
local rec = load_lease(lk, now, true)
local mine = rec.holders[holder]
if not mine or mine[2] ~= tonumber(ARGV[4]) then
  return 0
end
redis.call('HDEL', lk, 'h:' .. holder)
rec.holders[holder] = nil
rec.n = rec.n - 1
promote_or_idle(lk, P .. 'queue:' .. key, P .. 'waiter:' .. key, rec, key, now)
return 1

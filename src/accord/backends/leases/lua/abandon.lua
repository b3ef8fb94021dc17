-- A waiter gives up: leave the queue, pass on a slot handed to it: rule.abandon.
-- KEYS: lease hash (the waits key follows from the prefix)
-- ARGV: prefix, key, waiter, holder
local lk, key, waiter, holder = KEYS[1], ARGV[2], ARGV[3], ARGV[4]
local now = now_us()
local rec = load_lease(lk, now)
if not rec.exists then
  return 0
end
local w = rec.waiters[holder]
if w and w.mb == waiter then
  rec.waiters[holder] = nil
  rec.nw = rec.nw - 1
  rec.del[#rec.del + 1] = 'h:' .. holder
  rec.del[#rec.del + 1] = 'm:' .. holder
  rec.modes[holder] = nil
  count(rec, TIMEOUTS, 1)
elseif rec.holders[holder] then -- handed over meanwhile: pass it on
  release_holder(rec, holder)
end
promote(rec, key, now)
flush(lk, rec, true)
redis.call('HDEL', P .. 'waits', holder)
return 1

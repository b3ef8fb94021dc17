-- abandon.lua for a lease of the indexed layout (_indexed.lua).
-- KEYS: lease hash   ARGV: prefix, key, waiter, holder
local lk, key, waiter, holder = KEYS[1], ARGV[2], ARGV[3], ARGV[4]
local now = now_us()
local r = ix_load(lk, key, now, holder)
local w, o = r.own_waiter, r.own_holder
if w and w.mb == waiter then
  r.set['h:' .. holder] = false
  redis.call('ZREM', r.qk, holder)
  r.nq = r.nq - 1
  if w.exp > now then
    count(r, TIMEOUTS, 1)
  end
elseif o and o.exp > now then -- handed over meanwhile: pass it on
  ix_release_own(r)
end
ix_promote(r, now)
ix_flush(r)
redis.call('HDEL', P .. 'waits', holder)
return 1

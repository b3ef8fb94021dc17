-- A waiter gives up: leave the queue, pass on a slot handed to it: rule.abandon.
-- KEYS: lease hash (the queue, waiters and waits keys follow from the prefix)
-- ARGV: prefix, key, waiter, holder
local lk, key = KEYS[1], ARGV[2]
local qk, wk, waits = P .. 'queue:' .. key, P .. 'waiter:' .. key, P .. 'waits'
if redis.call('EXISTS', lk) == 0 then
  return 0
end
local now = now_us()
local rec = load_lease(lk, now, true)
leave(lk, qk, wk, rec, key, ARGV[3], ARGV[4], now)
redis.call('HDEL', waits, ARGV[4])
return 1

-- Break the round `waiter` is in: barrier.barrier_break.
-- KEYS: the barrier list   ARGV: prefix, waiter (a mailbox id)
-- Reply: 1, the others of the round got 'broken' and a new round starts; 0 when
-- `waiter` is in no round (it was released meanwhile).
local bk, waiter = KEYS[1], ARGV[2]
local waiters = redis.call('LRANGE', bk, 0, -1)
if not position(waiters, waiter) then
  return 0
end
post_all(waiters, 'broken', waiter)
redis.call('DEL', bk)
return 1

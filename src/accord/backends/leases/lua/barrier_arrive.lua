-- Join the current round of a barrier: barrier.barrier_arrive.
-- KEYS: the barrier list   ARGV: prefix, parties, waiter (a mailbox id)
-- Reply: the arrival index. The last of `parties` arrivals posts 'go' to every
-- waiter of the round and starts the next one (an empty list).
local bk, parties, waiter = KEYS[1], tonumber(ARGV[2]), ARGV[3]
local waiters = redis.call('LRANGE', bk, 0, -1)
local index = position(waiters, waiter)
if not index then
  waiters[#waiters + 1] = waiter
  index = #waiters - 1
  redis.call('RPUSH', bk, waiter)
end
if #waiters >= parties then
  post_all(waiters, 'go', nil)
  redis.call('DEL', bk)
end
return index

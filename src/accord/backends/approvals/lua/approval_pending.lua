-- Expire up to `sweep` overdue requests (audited), then list up to `limit` pending
-- ones, soonest deadline first: approvals/records.py approval_pending.
-- KEYS: the pending set, the audit stream, its meta
-- ARGV: prefix, observer, observer as JSON, keep ('' for all), limit, sweep
-- Reply: {1 if overdue ones are left else 0, the fields of each listed request...}
-- @helpers
local pk, sk, mk = KEYS[1], KEYS[2], KEYS[3]
local limit, sweep = tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_us()
local due = redis.call('ZRANGEBYSCORE', pk, '-inf', now, 'LIMIT', 0, sweep + 1)
for i = 1, math.min(#due, sweep) do
  local ak = P .. 'approval:' .. due[i]
  local rec = load(ak)
  if rec then
    settle(ak, pk, sk, mk, rec, now, ARGV[2], ARGV[3], ARGV[4])
  else
    redis.call('ZREM', pk, due[i])
  end
end
local out = {#due > sweep and 1 or 0}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', pk, '(' .. now, '+inf', 'LIMIT', 0, limit)) do
  out[#out + 1] = redis.call('HGETALL', P .. 'approval:' .. id)
end
return out

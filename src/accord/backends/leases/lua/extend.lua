-- Make a live lease expire ttl from now: rule.extend.
-- KEYS: lease hash
-- ARGV: prefix, key, holder, token, ttl_us
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk = KEYS[1]
local field = 'h:' .. ARGV[3]
local v = redis.call('HGET', lk, field)
if not v then
  return 0
end
local exp, tok, mb, agent = string.match(v, '^(%d+) (%d+):?(%S*) (.*)$')
if not exp or tonumber(tok) ~= tonumber(ARGV[4]) then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(exp) <= now then
  return 0
end
local exp = now + tonumber(ARGV[5])
redis.call('HSET', lk, field, string.format('%d %s:%s %s', exp, tok, mb, agent))
if string.sub(ARGV[2], 1, 4) == 'sem/' then -- the indexed layout (_indexed.lua)
  redis.call('ZADD', ARGV[1] .. 'lexp:' .. ARGV[2], 'XX', exp, ARGV[3])
end
return 1

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
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local exp, tok, agent = string.match(v, '^(%d+) (%d+) (.*)$')
if tonumber(tok) ~= tonumber(ARGV[4]) or tonumber(exp) <= now then
  return 0
end
redis.call('HSET', lk, field, string.format('%d %s %s', now + tonumber(ARGV[5]), tok, agent))
return 1

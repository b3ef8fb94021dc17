-- Make a live lease expire ttl from now: rule.extend.
-- KEYS: lease (a lock's string, a semaphore's hash: _leases.lua)
-- ARGV: prefix, key, holder, token, ttl_us
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk = KEYS[1]
local field = 'h:' .. ARGV[3]
local ix = string.sub(ARGV[2], 1, 4) == 'sem/'
local flat, at -- a lock's fields (_leases.lua), and where the holder's value is
if not ix then
  local raw = redis.call('MGET', lk)[1]
  flat = raw and cmsgpack.unpack(raw)
end
local v
if flat then
  for i = 1, #flat, 2 do
    if flat[i] == field then
      at, v = i + 1, flat[i + 1]
    end
  end
else -- a semaphore's hash, or a lock's of layout 3
  v = redis.call('HGET', lk, field)
end
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
exp = now + tonumber(ARGV[5])
local text = string.format('%d %s:%s %s', exp, tok, mb, agent)
if flat then
  flat[at] = text
  redis.call('SET', lk, cmsgpack.pack(flat))
else
  redis.call('HSET', lk, field, text)
end
if ix then -- the indexed layout (_indexed.lua)
  redis.call('ZADD', ARGV[1] .. 'lexp:' .. ARGV[2], 'XX', exp, ARGV[3])
end
return 1

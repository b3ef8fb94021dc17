-- Read agents with the server's time: one ('get'), a page by name ('page'), the live
-- ones without progress for a threshold ('hung', which marks them reported), or reap
-- the live ones whose heartbeat lapsed ('reap': state dead).
-- KEYS: the index the call walks
-- ARGV: prefix, 'get' name | 'page' after limit | 'hung' threshold_us limit
--       | 'reap' limit
-- Reply: {server time us, record JSON, ...}; 'hung' also {..., '', newly marked names}
local now = now_us()
local out = {now}
local op = ARGV[2]
if op == 'get' then
  local raw = redis.call('GET', P .. 'agent:' .. ARGV[3])
  if raw then
    out[2] = raw
  end
  return out
end
if op == 'page' then
  local from = ARGV[3] == '' and '-' or '(' .. ARGV[3]
  for _, name in ipairs(redis.call('ZRANGEBYLEX', NAMES, from, '+', 'LIMIT', 0, ARGV[4])) do
    local raw = redis.call('GET', P .. 'agent:' .. name)
    if raw then
      out[#out + 1] = raw
    end
  end
  return out
end
if op == 'reap' then
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', BY_EXP, '-inf', now, 'LIMIT', 0, ARGV[3])) do
    local a = load(name)
    if a and a.state == 'live' then
      a.state = 'dead'
      save(a)
      out[#out + 1] = cjson.encode(a)
    else
      redis.call('ZREM', BY_EXP, name)
    end
  end
  return out
end
-- hung
local before = now / 1e6 - tonumber(ARGV[3]) / 1e6
local fresh = {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', BY_PROG, '-inf', '(' .. before, 'LIMIT', 0,
                                 ARGV[4])) do
  local a = load(name)
  if a and a.state == 'live' and a.expires_at > now then
    if not a.hung then
      a.hung = true
      save(a)
      fresh[#fresh + 1] = name
    end
    out[#out + 1] = cjson.encode(a)
  end
end
out[#out + 1] = ''
for _, name in ipairs(fresh) do
  out[#out + 1] = name
end
return out

-- The counters of coord.metrics() for some lease keys: each one's last token (its
-- acquisitions) and its counters from the 'metrics' hash.
-- KEYS: the 'metrics' hash   ARGV: prefix, key, key...
-- Reply: {key, token, counters as JSON or '', ...}
local out = {}
for i = 2, #ARGV do
  local key = ARGV[i]
  local token = redis.call('HGET', P .. 'lease:' .. key, 'token')
  out[#out + 1] = key
  out[#out + 1] = tonumber(token or '0')
  out[#out + 1] = redis.call('HGET', KEYS[1], key) or ''
end
return out

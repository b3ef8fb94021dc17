-- The counters of coord.metrics() for some lease keys: each one's last token (its
-- acquisitions) and its counters, the field 'c' of its record (see _leases.lua).
-- KEYS: any key of the namespace (it routes the script to the namespace's slot)
-- ARGV: prefix, key, key...
-- Reply: {key, token, counters as JSON or '', ...}
local out = {}
for i = 2, #ARGV do
  local key = ARGV[i]
  local lk = P .. 'lease:' .. key
  local raw = not is_ix_key(lk) and redis.call('MGET', lk)[1]
  local found
  if raw then -- a lock's string: its fields as one MessagePack array
    local flat = cmsgpack.unpack(raw)
    found = {false, false}
    for j = 1, #flat, 2 do
      if flat[j] == 'token' then
        found[1] = flat[j + 1]
      elseif flat[j] == 'c' then
        found[2] = flat[j + 1]
      end
    end
  else
    found = redis.call('HMGET', lk, 'token', 'c')
  end
  out[#out + 1] = key
  out[#out + 1] = tonumber(found[1] or '0')
  out[#out + 1] = found[2] or ''
end
return out

-- Read-only snapshots of leases: rule.statistics for one key or every indexed
-- key starting with a prefix that has holders or waiters.
-- KEYS: index zset   ARGV: prefix, 'key' or 'prefix', the key or the key prefix
-- Reply: a list of {key, limit, last token, {agent, holder, token, us left, ...},
--        {waiting agent, ...}}
local now = now_us()

local function snapshot(key)
  local rec = load_lease(P .. 'lease:' .. key, now, false)
  local holders = {}
  for h, v in pairs(rec.holders) do
    holders[#holders + 1] = {v[3], h, v[2], v[1] - now}
  end
  table.sort(holders, function(a, b) return a[3] < b[3] end)
  local flat = {}
  for _, h in ipairs(holders) do
    for _, x in ipairs(h) do
      flat[#flat + 1] = x
    end
  end
  local waiters = {}
  local wk = P .. 'waiter:' .. key
  for _, w in ipairs(redis.call('LRANGE', P .. 'queue:' .. key, 0, -1)) do
    local data = redis.call('HGET', wk, w)
    if data then
      local exp, _, _, agent = parse_waiter(data)
      if exp > now then
        waiters[#waiters + 1] = agent
      end
    end
  end
  return {key, rec.limit, rec.token, flat, waiters}
end

if ARGV[2] == 'key' then
  return {snapshot(ARGV[3])}
end
local out = {}
for _, key in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[3], '(' .. ARGV[3] .. '\255')) do
  local s = snapshot(key)
  if #s[4] > 0 or #s[5] > 0 then
    out[#out + 1] = s
  end
end
return out

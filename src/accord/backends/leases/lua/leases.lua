-- Snapshots of leases: rule.statistics for one key, or one page of the index listings
-- walk ('leases': every lease key with holders or waiters, and those idle since the
-- last listing, which unlists them).
-- KEYS: lease hash ('key') or the index ('prefix')
-- ARGV: prefix, 'key' or 'prefix', the key or the key prefix, [after, page size]
-- Reply: 'key': {row}; 'prefix': {last key walked or '' at the end, row, row...}
--        where a row is {key, limit, last token, {agent, holder, token, us left, mode,
--        intent, ...},
--        {waiting agent, ...}}. A page walks at most `page size` keys of the index, so
--        no call grows with the namespace.
local now = now_us()

local function snapshot(key)
  local rec = load_lease(P .. 'lease:' .. key, now)
  local holders = {}
  for h, v in pairs(rec.holders) do
    local m = rec.modes[h]
    holders[#holders + 1] = {v.agent, h, v.tok, v.exp - now, m and m.mode or '',
                             m and m.intent or ''}
  end
  table.sort(holders, function(a, b) return a[3] < b[3] end)
  local flat = {}
  for _, h in ipairs(holders) do
    for _, x in ipairs(h) do
      flat[#flat + 1] = x
    end
  end
  local waiters = {}
  for _, w in ipairs(queue_of(rec)) do
    waiters[#waiters + 1] = w[2].agent
  end
  return {key, rec.limit, rec.token, flat, waiters}, rec
end

if ARGV[2] == 'key' then
  return {snapshot(ARGV[3])}
end
local kp, n = ARGV[3], tonumber(ARGV[5])
local from = ARGV[4] == '' and '[' .. kp or '(' .. ARGV[4]
local keys = redis.call('ZRANGEBYLEX', KEYS[1], from, '(' .. kp .. '\255', 'LIMIT', 0, n)
local out = {#keys == n and keys[n] or ''}
for _, key in ipairs(keys) do
  local s, rec = snapshot(key)
  if #s[4] > 0 or #s[5] > 0 then
    out[#out + 1] = s
  else -- idle: unlisted until its next grant lists it again
    redis.call('ZREM', KEYS[1], key)
    if rec.str then
      rec.del[#rec.del + 1] = 'listed'
      flush(P .. 'lease:' .. key, rec, false)
    else
      redis.call('HDEL', P .. 'lease:' .. key, 'listed')
    end
  end
end
return out

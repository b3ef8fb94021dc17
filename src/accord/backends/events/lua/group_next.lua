-- Claim up to `limit` new entries of a group for a consumer (XREADGROUP ... >), first
-- passing the entries up to `skip`: the reader of the coordinator read them and none
-- matches the group's pattern, so none needs delivering. Whether the group's cursor
-- is behind `skip` is learnt by claiming its next entry: at or below `skip`, that
-- one is acknowledged and the cursor moved to `skip` (never back: it was below).
-- KEYS: the events stream   ARGV: group, consumer, limit, skip (an entry id)
-- Reply: the claimed entries as XREADGROUP gives them, or -1 if the group is gone
local key, group, consumer, limit = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])

local function read(count)
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
    'STREAMS', key, '>')
  if not reply then
    return {}
  end
  return reply[1][2]
end

local function above(id, other)
  local a, b = string.match(id, '^(%d+)-(%d+)$')
  local c, d = string.match(other, '^(%d+)-(%d+)$')
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  return a > c or (a == c and b > d)
end

local ok, first = pcall(read, 1)
if not ok then
  local message = type(first) == 'table' and first.err or tostring(first)
  if string.find(message, 'NOGROUP', 1, true) then
    return -1 -- the group (or the whole log) is gone
  end
  error(first)
end
local out = {}
if #first == 1 then
  if above(first[1][1], ARGV[4]) then
    out[1] = first[1]
  else
    redis.call('XACK', key, group, first[1][1])
    redis.call('XGROUP', 'SETID', key, group, ARGV[4])
  end
end
if limit > #out then
  for _, entry in ipairs(read(limit - #out)) do
    out[#out + 1] = entry
  end
end
return out

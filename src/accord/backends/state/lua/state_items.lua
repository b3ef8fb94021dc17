-- A page of the live keys of a map and their current versions, sorted: at most
-- ARGV[4] keys from the map's live-keys zset, so a call's work is bounded by the page,
-- not by the map or the namespace.
-- KEYS: live-keys zset
-- ARGV: versions-list key prefix of the map, first and last key (ZRANGEBYLEX form), count
-- Reply: {key, version text, key, version text, ...}
local out = {}
local names = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, name in ipairs(names) do
  local cur = redis.call('LINDEX', ARGV[1] .. name, 0)
  if cur and select(4, parse_version(cur)) then
    out[#out + 1] = name
    out[#out + 1] = cur
  end
end
return out

-- Live keys of a map starting with a prefix, and their current versions, sorted.
-- KEYS: live-keys zset   ARGV: versions-list key prefix of the map, key prefix
-- Reply: {key, version text, key, version text, ...}
local out = {}
local names = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[2], '(' .. ARGV[2] .. '\255')
for _, name in ipairs(names) do
  local cur = redis.call('LINDEX', ARGV[1] .. name, 0)
  if cur and select(4, parse_version(cur)) then
    out[#out + 1] = name
    out[#out + 1] = cur
  end
end
return out

-- Delete a key by writing a tombstone version: _records.state_delete.
-- KEYS: versions list
-- ARGV: live-keys zset of the map (same slot), key, agent, expected version or ''
-- Reply: 1 (deleted) | 0 (absent) | {current version text or nil} (conflict).
local hk = KEYS[1]
local expected = ARGV[4]
local cur = redis.call('LINDEX', hk, 0)
local ver, ftok, fname, live = 0, 0, '', false
if cur then
  ver, ftok, fname, live = parse_version(cur)
end
if not live then
  if expected ~= '' and expected ~= '0' then
    return {cur}
  end
  return 0
end
if expected ~= '' and tonumber(expected) ~= ver then
  return {cur}
end
push_version(hk, ver + 1, ftok, fname, ARGV[3], nil)
redis.call('ZREM', ARGV[1], ARGV[2])
return 1

-- Write the next version of a key after the checks: _core.check + _core.write.
-- KEYS: versions list (newest first)
-- ARGV: live-keys zset of the map (same slot), key, JSON text, agent,
--       expected version or '', fence name or '', fence token
-- Reply: {0, version, at} | {1, current version text or nil} (version conflict)
--        | {2, newest fence token} (stale fence). Nothing is written on a refusal.
local hk = KEYS[1]
local expected, fname = ARGV[5], ARGV[6]
local cur = redis.call('LINDEX', hk, 0)
local ver, cftok, cfname, live = 0, 0, '', false
if cur then
  ver, cftok, cfname, live = parse_version(cur)
end
if expected ~= '' and tonumber(expected) ~= (live and ver or 0) then
  return {1, cur}
end
if fname ~= '' then
  local ftok = tonumber(ARGV[7])
  if cur and cfname == fname and ftok < cftok then
    return {2, cftok}
  end
  cfname, cftok = fname, ftok
end
local at = push_version(hk, ver + 1, cftok, cfname, ARGV[4], ARGV[3])
if not live then
  redis.call('ZADD', ARGV[1], 0, ARGV[2])
end
return {0, ver + 1, at}

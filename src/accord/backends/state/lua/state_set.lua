-- Write the next version of a key after the checks: rule.check + rule.write.
-- KEYS: versions list (newest first)
-- ARGV: live-keys zset of the map (same slot), key, JSON text, agent,
--       expected version or '', fence name or '', fence token, [the 'floors' hash of
--       the leases (same slot), given with a fence]
-- Reply: {0, version, at} | {1, current version text or nil} (version conflict)
--        | {2, newest fence token} (stale fence) | {4, newest token revoked} (the
--        fence's lease was revoked: leases/lua/revoke.lua). Nothing is written on a
--        refusal.
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
if fname ~= '' and ARGV[8] then
  local floor = tonumber(redis.call('HGET', ARGV[8], fname) or '0')
  if tonumber(ARGV[7]) <= floor then
    return {4, floor}
  end
end
if fname ~= '' then
  local ftok = tonumber(ARGV[7])
  if cfname == fname or cfname == '' then -- the common case: one lock (or none) fenced it
    if cfname == fname and ftok < cftok then
      return {2, cftok}
    end
    cfname, cftok = fname, ftok
  else -- rule.fences: keep the highest token of each of MAX_FENCES locks, newest first
    local locks, toks = {}, {}
    local first = true
    for part in string.gmatch(cfname, '[^\t]+') do
      if first then
        locks[1], toks[1], first = part, cftok, false
      else
        local t, l = string.match(part, '^(%d+) (.*)$')
        locks[#locks + 1], toks[#toks + 1] = l, tonumber(t)
      end
    end
    local text = fname
    local kept = 1
    for i = 1, #locks do
      if locks[i] == fname then
        if ftok < toks[i] then
          return {2, toks[i]}
        end
      elseif kept < MAX_FENCES then
        text = text .. '\t' .. string.format('%d', toks[i]) .. ' ' .. locks[i]
        kept = kept + 1
      end
    end
    cfname, cftok = text, ftok
  end
end
local at = push_version(hk, ver + 1, cftok, cfname, ARGV[4], ARGV[3])
if not live then
  redis.call('ZADD', ARGV[1], 0, ARGV[2])
end
return {0, ver + 1, at}

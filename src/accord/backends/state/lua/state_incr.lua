-- Add a number to a key's value in one step: rule.incremented + rule.write.
-- KEYS: versions list
-- ARGV: live-keys zset of the map (same slot), key, delta (JSON number), agent
-- Reply: {0, version, at, new JSON text} | {3, current version text} (not a number)
--        | {4} (outside exact double arithmetic: the caller falls back to
--        compare-and-set in Python). Nothing is written unless the reply is {0, ...}.
--
-- Integers stay exact: both operands and the sum must lie within +-2^53, the range
-- where a Lua double holds every integer; floats are written as %.17g.
local hk = KEYS[1]
local EXACT = 9007199254740992

local function kind(text)
  if string.find(text, '^%-?%d+$') then
    return 'int'
  end
  if string.find(text, '^%-?%d+%.%d+$') or string.find(text, '^%-?%d+%.?%d*[eE][%+%-]?%d+$') then
    return 'float'
  end
  if text == 'Infinity' or text == '-Infinity' or text == 'NaN' then
    return 'special'
  end
  return 'other'
end

local cur = redis.call('LINDEX', hk, 0)
local ver, ftok, fname, live, base = 0, 0, '', false, '0'
if cur then -- parse_version, and the JSON text after the third line
  local v, t, flag, f, json = string.match(cur, '^(%d+) (%d+) (.)([^\n]*)\n[^\n]*\n[^\n]*\n(.*)$')
  ver, ftok, fname, live = tonumber(v), tonumber(t), f, flag == '='
  if live then
    base = json
  end
end
local bkind, dkind = kind(base), kind(ARGV[3])
if bkind == 'other' then
  return {3, cur}
end
if bkind == 'special' or dkind ~= 'int' and dkind ~= 'float' then
  return {4}
end
local a, b = tonumber(base), tonumber(ARGV[3])
local sum = a + b
local text
if bkind == 'int' and dkind == 'int' then
  if math.abs(a) >= EXACT or math.abs(b) >= EXACT or math.abs(sum) >= EXACT then
    return {4}
  end
  text = string.format('%d', sum)
else
  if sum ~= sum or sum == math.huge or sum == -math.huge then
    return {4}
  end
  text = string.format('%.17g', sum)
  if not string.find(text, '[%.eEn]') then
    text = text .. '.0' -- stays a float when read back
  end
end
local now = push_version(hk, ver + 1, ftok, fname, ARGV[4], text)
if not live then
  redis.call('ZADD', ARGV[1], 0, ARGV[2])
end
return {0, ver + 1, now, text}

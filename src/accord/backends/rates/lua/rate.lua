-- One GCRA step: rule.gcra. The theoretical arrival time (TAT) is kept in seconds
-- since EPOCH (small numbers keep a double's precision near a nanosecond) and the
-- key expires when the TAT has passed, which is the same as no key.
-- KEYS: tat key   ARGV: interval (s), burst, cost, consume (0/1)
-- Reply: 0 (admitted; consumed if asked) | seconds to wait as text (nothing consumed)
local EPOCH = 1700000000
local t = redis.call('TIME')
local now = (tonumber(t[1]) - EPOCH) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local new_tat = start + tonumber(ARGV[3]) * interval
local wait = (start - now) + (tonumber(ARGV[3]) - tonumber(ARGV[2])) * interval
if wait > 1e-9 then
  return string.format('%.17g', wait)
end
if ARGV[4] == '1' then
  -- at most ~317 years (a huge burst of long intervals), so PX never overflows
  local ms = math.min(math.ceil((new_tat - now) * 1000) + 1, 1e13)
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', string.format('%d', ms))
end
return 0

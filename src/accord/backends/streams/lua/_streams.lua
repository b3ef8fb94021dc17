-- Shared by the stream scripts and the approvals' (inserted at their helpers line):
-- the rule of streams/rule.py. A stream is a Redis stream whose entry '<id>-0' has the
-- fields t (time: microseconds of the server clock), s (source), d (data: canonical
-- JSON), p (prev) and h (hash); its meta is a string 'last head base' (one GET and
-- one SET: cheaper than a hash's fields).

-- 40 zeros, written out: a function library's load (redis/_lua.py) has no string.rep
local GENESIS = '0000000000000000000000000000000000000000'

-- The server's time in microseconds, as digits (Lua numbers are doubles).
local function now_us()
  local t = redis.call('TIME')
  return t[1] .. string.sub('00000' .. t[2], -6)
end

-- Append one entry: source and source_json (the source as a JSON string), data
-- (canonical JSON), keep ('' or the entries retention keeps).
-- Returns id, time, hash, prev.
local function stream_add(sk, mk, source, source_json, data, keep)
  local id, head, base = 1, GENESIS, 0
  local m = redis.call('GET', mk)
  if m then
    local last, h, b = string.match(m, '^(%d+) (%x+) (%d+)$')
    id, head, base = tonumber(last) + 1, h, tonumber(b)
  end
  local t = now_us()
  local line = '{"data":' .. data .. ',"id":' .. id .. ',"prev":"' .. head ..
    '","source":' .. source_json .. ',"time":' .. t .. '}'
  local h = redis.sha1hex(line)
  redis.call('XADD', sk, id .. '-0', 't', t, 's', source, 'd', data, 'p', head, 'h', h)
  keep = tonumber(keep)
  if keep and id - base > keep then
    base = id - keep
    redis.call('XTRIM', sk, 'MINID', (base + 1) .. '-0')
  end
  redis.call('SET', mk, id .. ' ' .. h .. ' ' .. base)
  return {id, t, h, head}
end

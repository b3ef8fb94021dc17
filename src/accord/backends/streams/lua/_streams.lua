-- Shared by the stream scripts and the approvals' (inserted at their helpers line):
-- the rule of streams/rule.py. A stream is a Redis stream whose entry '<id>-0' has the
-- fields t (time: microseconds of the server clock), s (source), d (data: canonical
-- JSON), p (prev) and h (hash); its meta is a hash of last, head and base.

local GENESIS = string.rep('0', 40)

-- The server's time in microseconds, as digits (Lua numbers are doubles).
local function now_us()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end

-- Append one entry: source and source_json (the source as a JSON string), data
-- (canonical JSON), keep ('' or the entries retention keeps).
-- Returns id, time, hash, prev.
local function stream_add(sk, mk, source, source_json, data, keep)
  local m = redis.call('HMGET', mk, 'last', 'head', 'base')
  local id = tonumber(m[1] or '0') + 1
  local head = m[2] or GENESIS
  local base = tonumber(m[3] or '0')
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
  redis.call('HSET', mk, 'last', id, 'head', h, 'base', base)
  return {id, t, h, head}
end

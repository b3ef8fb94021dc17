-- Shared by the state scripts: the Python side puts its constants and this text in
-- front of each of them.
--
-- A version is '<version> <fence token> <flag><fence name>\n<at>\n<agent>\n<json>',
-- flag '=' for a value and '-' for a delete (a tombstone, with no json). The list of
-- versions is newest first; it keeps HISTORY_KEEP of them, give or take TRIM_SLACK.

-- version, fence token, fence name, live? of a stored version
local function parse_version(v)
  local ver, ftok, flag, fname = string.match(v, '^(%d+) (%d+) (.)([^\n]*)')
  return tonumber(ver), tonumber(ftok), fname, flag == '='
end

-- Push the next version, stamped with the server's wall clock; returns that time.
local function push_version(hk, ver, ftok, fname, agent, json)
  local t = redis.call('TIME')
  local at = t[1] .. '.' .. string.sub(t[2] + 1000000, 2)
  local flag = json and ' =' or ' -'
  local v = ver .. ' ' .. ftok .. flag .. fname .. '\n' .. at .. '\n' .. agent .. '\n' .. (json or '')
  if redis.call('LPUSH', hk, v) > HISTORY_KEEP + TRIM_SLACK then
    redis.call('LTRIM', hk, 0, HISTORY_KEEP - 1)
  end
  return at
end

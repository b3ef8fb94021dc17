-- Shared by the registry scripts (put at a script's '-- @helpers' line, else in front).
-- ARGV[1] is the namespace prefix 'accord:{<ns>}:'. An agent is the string key
-- 'agent:<name>' holding the JSON of rule.AgentRecord, with 'expires_at' in server
-- microseconds; the sorted sets 'agents' (every name, score 0, walked by name),
-- 'agents:exp' and 'agents:prog' (live agents by heartbeat expiry in microseconds and
-- by progress in wall seconds) make a heartbeat, a reap and a hung call cost the same
-- whatever the number of agents.

local P = ARGV[1]
local NAMES, BY_EXP, BY_PROG = P .. 'agents', P .. 'agents:exp', P .. 'agents:prog'

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function load(name)
  local raw = redis.call('GET', P .. 'agent:' .. name)
  return raw and cjson.decode(raw)
end

local function save(a)
  redis.call('SET', P .. 'agent:' .. a.name, cjson.encode(a))
  redis.call('ZADD', NAMES, 0, a.name)
  if a.state == 'live' then
    redis.call('ZADD', BY_EXP, a.expires_at, a.name)
    redis.call('ZADD', BY_PROG, a.progress, a.name)
  else
    redis.call('ZREM', BY_EXP, a.name)
    redis.call('ZREM', BY_PROG, a.name)
  end
end

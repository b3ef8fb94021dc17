-- Deregister this session's agent.
-- KEYS: the agent's key   ARGV: prefix, name, session
-- Reply: 1, or 0 when the name is not this session's
local a = load(ARGV[2])
if not a or a.session ~= ARGV[3] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', NAMES, a.name)
redis.call('ZREM', BY_EXP, a.name)
redis.call('ZREM', BY_PROG, a.name)
return 1

-- Register an agent: rule.join.
-- KEYS: the agent's key   ARGV: prefix, record JSON (times are set here)
-- Reply: {0, session replaced or ''} | {1, host, pid} (a live session has the name)
local a = cjson.decode(ARGV[2])
local now = now_us()
local cur = load(a.name)
local replaced = ''
if cur and cur.state == 'live' and cur.session ~= a.session then
  if cur.expires_at > now then
    return {1, cur.host, cur.pid}
  end
  replaced = cur.session
end
local wall = now / 1e6
a.state, a.reason, a.hung = 'live', '', false
a.started_at, a.beat, a.progress = wall, wall, wall
a.expires_at = now + math.floor(a.ttl * 1e6)
save(a)
return {0, replaced}

-- A heartbeat: rule.beat.
-- KEYS: the agent's key
-- ARGV: prefix, name, session, ttl_us, progress_ago_us ('' none), working_on flag
--       ('1' to set it), working_on
-- Reply: {'ok' | 'killed' | 'gone', reason}
local a = load(ARGV[2])
if not a or a.session ~= ARGV[3] then
  return {'gone', ''}
end
if a.state == 'killed' then
  return {'killed', a.reason}
end
local now = now_us()
local wall = now / 1e6
a.state = 'live'
a.ttl = tonumber(ARGV[4]) / 1e6
a.expires_at = now + tonumber(ARGV[4])
a.beat = wall
if ARGV[5] ~= '' then
  local at = wall - tonumber(ARGV[5]) / 1e6
  if at > a.progress then
    a.progress = at
    a.hung = false
  end
end
if ARGV[6] == '1' then
  a.working_on = ARGV[7]
end
save(a)
return {'ok', ''}

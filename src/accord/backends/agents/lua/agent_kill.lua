-- The kill switch on the registry: mark the agent killed and post 'kill' to its
-- control mailbox (revoking its leases is leases/lua/revoke.lua).
-- KEYS: the agent's key   ARGV: prefix, name, reason
-- Reply: {server time us, record JSON} or false (no such agent)
local a = load(ARGV[2])
if not a then
  return false
end
a.state, a.reason = 'killed', ARGV[3]
save(a)
if a.mailbox ~= '' then
  local mb = P .. 'mb:' .. a.mailbox
  redis.call('RPUSH', mb, 'kill')
  redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
end
return {now_us(), cjson.encode(a)}

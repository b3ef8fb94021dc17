-- Approve or deny: approvals/rule.py expire_due, then decide; audited.
-- KEYS: the request's hash, the pending set, the audit stream, its meta
-- ARGV: prefix, status, by, by as JSON, reason (JSON), keep
-- The approvers are matched against 'by' and, while its agent record ('agent:<by>',
-- agents/lua/_agents.lua) is live, the role it registered with: read here, in the
-- decision's own step, so a kill or a reap that lands first takes the role away.
-- Reply: {outcome, the request's fields (HGETALL)}; outcome as rule.py names it
-- @helpers
local ak, pk, sk, mk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local by, keep = ARGV[3], ARGV[6]
local rec = load(ak)
if not rec then
  return {'unknown', {}}
end
local now = now_us()
if settle(ak, pk, sk, mk, rec, now, by, ARGV[4], keep) or rec.status ~= 'pending' then
  return {'closed', redis.call('HGETALL', ak)}
end
if by == rec.by then
  return {'own', redis.call('HGETALL', ak)}
end
if rec.approvers ~= '' then
  local allowed, found = {}, false
  for _, name in ipairs(cjson.decode(rec.approvers)) do
    allowed[name] = true
  end
  found = allowed[by] == true
  if not found then
    local raw = redis.call('GET', ARGV[1] .. 'agent:' .. by)
    local agent = raw and cjson.decode(raw)
    if agent and type(agent.role) == 'string' and agent.role ~= ''
        and agent.state == 'live' and tonumber(agent.expires_at) > tonumber(now) then
      found = allowed[agent.role] == true
    end
  end
  if not found then
    return {'not_approver', redis.call('HGETALL', ak)}
  end
end
rec.status, rec.decided_by, rec.reason, rec.decided = ARGV[2], by, ARGV[5], now
decided(ak, pk, sk, mk, rec, by, ARGV[4], keep)
return {'decided', redis.call('HGETALL', ak)}

-- Approve or deny: approvals/rule.py expire_due, then decide; audited.
-- KEYS: the request's hash, the pending set, the audit stream, its meta
-- ARGV: prefix, status, by, by as JSON, identities (JSON list), reason (JSON), keep
-- Reply: {outcome, the request's fields (HGETALL)}; outcome as rule.py names it
-- @helpers
local ak, pk, sk, mk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local by, keep = ARGV[3], ARGV[7]
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
  for _, name in ipairs(cjson.decode(ARGV[5])) do
    found = found or allowed[name] == true
  end
  if not found then
    return {'not_approver', redis.call('HGETALL', ak)}
  end
end
rec.status, rec.decided_by, rec.reason, rec.decided = ARGV[2], by, ARGV[6], now
decided(ak, pk, sk, mk, rec, by, ARGV[4], keep)
return {'decided', redis.call('HGETALL', ak)}

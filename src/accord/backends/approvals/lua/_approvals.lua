-- Shared by the approval scripts (inserted at their helpers line, after _streams.lua):
-- the rule of approvals/rule.py. A request is a hash approval:<id> with the fields id,
-- action (JSON), details (JSON), by (the requester), approvers (a JSON list, or ''
-- for anyone), created, deadline, decided (microseconds of the server clock), status,
-- decided_by, reason (JSON: null or a string) and watchers (waiters' mailbox ids,
-- space-separated); the sorted set 'approvals' holds the pending ones by deadline.
-- ARGV[1] is the namespace prefix 'accord:{<ns>}:'.

local P = ARGV[1]
local MAX_WATCHERS = 256

local function load(ak)
  local flat = redis.call('HGETALL', ak)
  if #flat == 0 then
    return nil
  end
  local rec = {}
  for i = 1, #flat, 2 do
    rec[flat[i]] = flat[i + 1]
  end
  return rec
end

-- rule.audit_data: the audit entry of a decision, canonical JSON.
local function audit_data(rec)
  return '{"action":' .. rec.action .. ',"approval":"' .. rec.id ..
    '","kind":"accord.approval_decided","reason":' .. rec.reason .. ',"status":"' ..
    rec.status .. '"}'
end

-- A request just decided: post its waiters, save it, take it off the pending set and
-- append its audit entry (as `source`).
local function decided(ak, pk, sk, mk, rec, source, source_json, keep)
  for w in string.gmatch(rec.watchers, '%S+') do
    local mb = P .. 'mb:' .. w
    redis.call('RPUSH', mb, 'd')
    redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
  end
  rec.watchers = ''
  redis.call('HSET', ak, 'status', rec.status, 'decided_by', rec.decided_by, 'reason',
    rec.reason, 'decided', rec.decided, 'watchers', '')
  redis.call('ZREM', pk, rec.id)
  stream_add(sk, mk, source, source_json, audit_data(rec), keep)
end

-- rule.expire_due, then audited as `source`: true if it expired now.
local function settle(ak, pk, sk, mk, rec, now, source, source_json, keep)
  if rec.status ~= 'pending' or tonumber(now) < tonumber(rec.deadline) then
    return false
  end
  rec.status, rec.decided = 'expired', rec.deadline
  decided(ak, pk, sk, mk, rec, source, source_json, keep)
  return true
end

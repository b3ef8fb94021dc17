-- Read a request, expiring it first if overdue (audited), and with a mailbox register
-- it as a waiter of a pending request: approvals/rule.py expire_due and watch.
-- KEYS: the request's hash, the pending set, the audit stream, its meta
-- ARGV: prefix, observer, observer as JSON, keep ('' for all), mailbox ('' for none)
-- Reply: the request's fields (HGETALL), empty if unknown
-- @helpers
local ak, pk, sk, mk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local rec = load(ak)
if not rec then
  return {}
end
settle(ak, pk, sk, mk, rec, now_us(), ARGV[2], ARGV[3], ARGV[4])
local mailbox = ARGV[5]
if mailbox ~= '' and rec.status == 'pending' then
  local watchers = {}
  for w in string.gmatch(rec.watchers, '%S+') do
    if w ~= mailbox then
      watchers[#watchers + 1] = w
    end
  end
  watchers[#watchers + 1] = mailbox
  local first = math.max(1, #watchers - MAX_WATCHERS + 1)
  redis.call('HSET', ak, 'watchers', table.concat(watchers, ' ', first))
end
return redis.call('HGETALL', ak)

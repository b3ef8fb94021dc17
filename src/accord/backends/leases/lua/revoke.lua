-- The kill switch on one page of the live leases: drop the holders and waiters whose
-- holder id starts with a session's prefix, and promote the next: rule.revoke.
-- KEYS: the index of live leases ('leases')
-- ARGV: prefix, holder prefix, after ('' from the start), page size
-- Reply: {last key walked or '' at the end, entries dropped}
local hp, n = ARGV[2], tonumber(ARGV[4])
local from = ARGV[3] == '' and '-' or '(' .. ARGV[3]
local keys = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, n)
local now = now_us()
local dropped = 0
for _, key in ipairs(keys) do
  local lk = P .. 'lease:' .. key
  local rec = load_lease(lk, now)
  local gone, floor = 0, 0
  for h, v in pairs(rec.holders) do
    if string.sub(h, 1, #hp) == hp then
      floor = math.max(floor, v.tok)
      release_holder(rec, h)
      gone = gone + 1
    end
  end
  if gone > 0 then
    count(rec, REVOKED, gone)
    raise_floor(key, floor)
  end
  for h, _ in pairs(rec.waiters) do
    if string.sub(h, 1, #hp) == hp then
      rec.waiters[h] = nil
      rec.nw = rec.nw - 1
      rec.del[#rec.del + 1] = 'h:' .. h
      rec.del[#rec.del + 1] = 'm:' .. h
      gone = gone + 1
    end
  end
  if gone > 0 then
    promote(rec, key, now)
    flush(lk, rec, true)
    if indexed(key) then
      ix_rebuild(lk, key, rec)
    end
    dropped = dropped + gone
  end
end
return {#keys == n and keys[n] or '', dropped}

-- Free a lease and hand its slot to the queue head: rule.release.
-- KEYS: lease hash   ARGV: prefix, key, holder, token
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk, key, holder = KEYS[1], ARGV[2], ARGV[3]
local now = now_us()
local rec = load_lease(lk, now)
local mine = rec.holders[holder]
if not mine or mine.tok ~= tonumber(ARGV[4]) then
  if rec.lost then
    flush(lk, rec, true)
  end
  return 0
end
release_holder(rec, holder)
promote(rec, key, now)
flush(lk, rec, false)
return 1

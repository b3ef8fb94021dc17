-- release.lua for a lease of the indexed layout (_indexed.lua).
-- KEYS: lease hash   ARGV: prefix, key, holder, token
-- Reply: 1, or 0 when the holder does not hold this token (the lease was lost).
local lk, key, holder = KEYS[1], ARGV[2], ARGV[3]
local now = now_us()
local r = ix_load(lk, key, now, holder)
local o = r.own_holder
if not o or o.exp <= now or o.tok ~= tonumber(ARGV[4]) then
  ix_flush(r) -- what the load swept
  return 0
end
ix_release_own(r)
ix_promote(r, now)
ix_flush(r)
return 1

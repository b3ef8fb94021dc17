-- An operator's force release: drop every holder, hand the lease to the queue head
-- (who gets the next token): rule.force_release.
-- KEYS: lease hash   ARGV: prefix, key
-- Reply: the agents dropped.
local lk, key = KEYS[1], ARGV[2]
local now = now_us()
local rec = load_lease(lk, now)
local agents, floor = {}, 0
for h, v in pairs(rec.holders) do
  agents[#agents + 1] = v.agent
  floor = math.max(floor, v.tok)
  release_holder(rec, h)
end
if floor > 0 then
  raise_floor(key, floor)
end
if #agents > 0 then
  count(rec, REVOKED, #agents)
end
promote(rec, key, now)
flush(lk, rec, true)
if indexed(key) and rec.exists then
  ix_rebuild(lk, key, rec)
end
return agents

-- Delete old finished tasks, or revoke claims (records.task_prune, task_revoke), a
-- page a call. KEYS: the counter (routing)
-- ARGV: P, agent, max_events, what, then
--   prune: queue, status, before (Unix time), after id, limit -> {deleted, next after or ''}
--   revoke: holder prefix, limit, give back (1: released, the attempt does not count;
--           0: as if the lease ran out) -> {revoked, more (1) or not (0)}
local what = ARGV[4]
if what == 'prune' then
  local q, status, before, limit = ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[9])
  local ids = redis.call('ZRANGEBYSCORE', qk('ts', q) .. ':' .. status, '(' .. ARGV[8], '+inf',
                         'LIMIT', 0, limit)
  local deleted = 0
  for _, id in ipairs(ids) do
    local t = load(id)
    if t and t.s == status and tonumber(t.ua) < before then
      if t.k and redis.call('HGET', qk('tk', q), t.k) == id then
        redis.call('HDEL', qk('tk', q), t.k)
      end
      redis.call('DEL', tkey(id))
      redis.call('ZREM', qk('ts', q) .. ':' .. status, id)
      redis.call('ZREM', qk('ta', q), id)
      deleted = deleted + 1
    end
  end
  return {deleted, #ids == limit and ids[#ids] or ''}
end
local prefix, limit, give_back = ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1'
local first = '[' .. prefix
local last = prefix == '' and '+' or '(' .. prefix .. '\255'
local found = redis.call('ZRANGEBYLEX', P .. 'tc', first, last, 'LIMIT', 0, limit)
local revoked = 0
for _, entry in ipairs(found) do
  local id = string.match(entry, '\n(%d+)$')
  local t = id and load(id)
  if t and t.s == 'claimed' and give_back then
    leave(t)
    t.s, t.h, t.ua = 'ready', '', WALL
    t.a = tostring(math.max(tonumber(t.a) - 1, 0))
    enter(t)
    revoked = revoked + 1
  elseif t and t.s == 'claimed' then
    expire(t, REVOKED)
    revoked = revoked + 1
  else
    redis.call('ZREM', P .. 'tc', entry)
  end
end
settle()
return {revoked, #found == limit and 1 or 0}

-- Read a queue (records.task_list, task_stats). KEYS: the counter (routing)
-- ARGV: P, agent, max_events, what, queue, then
--   page: status or '' (any), after id, limit -> {next after or '', task, task ...}
--   stats: - -> {count, ...} in the order of the statuses given after the queue
--   claims: (ARGV[5] a holder prefix, not a queue) limit -> {agent, id, queue, ...}
local what, q = ARGV[4], ARGV[5]
if what == 'claims' then
  local last = q == '' and '+' or '(' .. q .. '\255'
  local out, limit = {}, tonumber(ARGV[6])
  for _, entry in ipairs(redis.call('ZRANGEBYLEX', P .. 'tc', '[' .. q, last)) do
    local id = string.match(entry, '\n(%d+)$')
    local t = id and load(id)
    if t and t.s == 'claimed' then
      out[#out + 1], out[#out + 2], out[#out + 3] = t.cb, t.id, t.q
      if #out >= 3 * limit then break end
    end
  end
  return out
end
if what == 'stats' then
  local out = {}
  for i = 6, #ARGV do out[#out + 1] = redis.call('ZCARD', qk('ts', q) .. ':' .. ARGV[i]) end
  return out
end
local index = ARGV[6] == '' and qk('ta', q) or qk('ts', q) .. ':' .. ARGV[6]
local limit = tonumber(ARGV[8])
local ids = redis.call('ZRANGEBYSCORE', index, '(' .. ARGV[7], '+inf', 'LIMIT', 0, limit)
local out = {#ids == limit and ids[#ids] or ''}
for _, id in ipairs(ids) do
  local t = load(id)
  if t then out[#out + 1] = flat(t) end
end
return out

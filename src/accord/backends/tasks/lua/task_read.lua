-- Read a queue (records.task_list, task_stats). KEYS: the counter (routing)
-- ARGV: P, agent, max_events, what, queue, then
--   page: status or '' (any), after id, limit -> {next after or '', task, task ...}
--   stats: - -> {count, ...} in the order of the statuses given after the queue
local what, q = ARGV[4], ARGV[5]
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

-- Take the best ready task of the lanes (records.task_claim). KEYS: the counter (routing)
-- ARGV: P, agent, max_events, queue, holder, lease_us, waiter or '', lanes...
-- With a waiter: a claim handed to it meanwhile is its reply.
-- Reply: {1, task as row() gives it} | {0, us until the queue's next timed change, or -1}
local q, holder, waiter = ARGV[4], ARGV[5], ARGV[7]
if waiter ~= '' then  -- a claim handed to it since it last asked
  local t = handed(holder, waiter)
  if t then return {1, row(t)} end
  ASKING = waiter  -- not handed what this claim may take itself
end
promote(q)
local best, best_score
for i = 8, #ARGV do
  local head = redis.call('ZRANGE', qk('tr', q) .. ':' .. ARGV[i], '0', '0', 'WITHSCORES')
  if head[1] then
    local score = tonumber(head[2])
    if not best or score < best_score or (score == best_score and head[1] < best) then
      best, best_score = head[1], score
    end
  end
end
if not best then
  if waiter ~= '' then
    -- rule.waiting: the claim to make for it, then its lanes
    local lanes = {'c\t' .. string.format('%.6f', tonumber(ARGV[6]) / 1000000) .. '\t' .. KEEP
                   .. '\t' .. AGENT .. '\t' .. holder}
    for i = 8, #ARGV do lanes[#lanes + 1] = ARGV[i] end
    redis.call('ZADD', qk('tw', q), 'NX', num(NOW), waiter)
    -- its presence: each BLPOP of its mailbox renews it (redis/_async_io.py)
    redis.call('SET', P .. 'mba:' .. waiter, '1', 'PX', ALIVE_MS)
    redis.call('HSET', qk('twr', q), waiter, num(NOW + WAITER_TTL_US) .. '\n' .. table.concat(lanes, '\n'))
  end
  local nxt = redis.call('ZRANGE', qk('td', q), 0, 0, 'WITHSCORES')
  settle()
  return {0, nxt[2] and math.max(tonumber(nxt[2]) - NOW, 0) or -1}
end
local t = load(num(tonumber(best)))
leave(t)
claim(t, holder, AGENT, ARGV[6])
enter(t)
if waiter ~= '' then
  redis.call('ZREM', qk('tw', q), waiter)
  redis.call('HDEL', qk('twr', q), waiter)
end
emit('task_claimed', t, '')
settle()
return {1, row(t)}

-- One step of a claim or on a task by id (records.task_extend, task_complete,
-- task_fail, task_release, task_cancel, task_retry, task_watch, task_unwatch,
-- task_unwait). KEYS: the counter (routing)
-- ARGV: P, agent, max_events, step, id (the queue for 'unwait'), then per step:
--   extend: token, lease_us   complete: token, result   fail: token, error, retry, delay_us
--   release: token   cancel: reason   retry: -   watch, unwatch: mailbox   unwait: waiter, holder
-- Reply: for a step of a claim (extend, complete, fail, release) 1, or 0 when the claim
-- lost the task; else the task ({} when there is none), {} for unwatch; for unwait
-- the claim handed to the waiter meanwhile, or {}
local step, id = ARGV[4], ARGV[5]
local t
if step == 'unwait' then
  redis.call('ZREM', qk('tw', id), ARGV[6])
  redis.call('HDEL', qk('twr', id), ARGV[6])
  t = handed(ARGV[7], ARGV[6])
  return t and flat(t) or {}
elseif step == 'extend' then
  t = claimed(id, ARGV[6])
  if t then
    leave(t)
    t.r, t.ls = num(NOW + tonumber(ARGV[7])), ARGV[7]
    enter(t)
  end
elseif step == 'complete' then
  t = claimed(id, ARGV[6])
  if t then
    leave(t)
    t.s, t.re, t.h, t.ua = 'done', ARGV[7], '', WALL
    emit('task_done', t, ',"result":' .. t.re)
    enter(t)
  end
elseif step == 'fail' then
  t = claimed(id, ARGV[6])
  if t then
    leave(t)
    end_attempt(t, ARGV[7], ARGV[8] == '1', tonumber(ARGV[9]))
    local name = t.s == 'dead' and 'task_dead' or 'task_failed'
    emit(name, t, ',"error":' .. jstr(ARGV[7]) .. ',"claimed_by":' .. jstr(AGENT))
    if t.s == 'dead' then audit_dead(t, ARGV[7], AGENT) end
    enter(t)
  end
elseif step == 'release' then
  t = claimed(id, ARGV[6])
  if t then
    leave(t)
    t.s, t.h, t.ua = 'ready', '', WALL
    t.a = tostring(math.max(tonumber(t.a) - 1, 0))
    enter(t)
  end
elseif step == 'cancel' then
  t = load(id)
  if t and not FINISHED[t.s] then
    leave(t)
    t.s, t.er, t.h, t.ua = 'cancelled', ARGV[6], '', WALL
    emit('task_cancelled', t, ',"error":' .. jstr(ARGV[6]))
    enter(t)
  end
elseif step == 'retry' then
  t = load(id)
  if t and (t.s == 'dead' or t.s == 'failed') then
    leave(t)
    t.s, t.a, t.er, t.ua = 'ready', '0', nil, WALL
    enter(t)
  end
elseif step == 'watch' then
  t = load(id)
  if t and not FINISHED[t.s] then
    local watchers = split(t.w, ',')
    local known = false
    for _, w in ipairs(watchers) do if w == ARGV[6] then known = true end end
    if not known then
      t.w = t.w == '' and ARGV[6] or t.w .. ',' .. ARGV[6]
      redis.call('HSET', tkey(id), 'w', t.w)
    end
  end
elseif step == 'unwatch' then
  t = load(id)
  if t then
    local kept = {}
    for _, w in ipairs(split(t.w, ',')) do if w ~= ARGV[6] then kept[#kept + 1] = w end end
    redis.call('HSET', tkey(id), 'w', table.concat(kept, ','))
  end
  return {}
end
settle()
if step == 'extend' or step == 'complete' or step == 'fail' or step == 'release' then
  return t and 1 or 0
end
return t and flat(t) or {}

-- Add a task (records.task_put). KEYS: the counter (routing)
-- ARGV: P, agent, max_events, queue, title, description, data, priority, tags (tab
--       joined), depends_on (comma joined ids), key or '', max_attempts, delay_us, to or '',
--       the queue and the title as JSON strings
-- Reply: {'new', id, created_at, status, r, pe, a, tk, h, cb, ls, error or ''} (a new
-- task: what the caller did not give) | {'found', task} | {'missing', id} | {'cycle', id}
local q, key, to, delay = ARGV[4], ARGV[11], ARGV[14], tonumber(ARGV[13])
if key ~= '' then
  local found = redis.call('HGET', qk('tk', q), key)
  local t = found and load(found)
  if t then
    local seen, stack, walked = {}, split(ARGV[10], ','), 0
    while #stack > 0 and walked < CYCLE_WALK do
      local id = table.remove(stack)
      if id == t.id then return {'cycle', id} end
      if not seen[id] then
        seen[id], walked = true, walked + 1
        for _, d in ipairs(split(redis.call('HGET', tkey(id), 'dp'), ',')) do stack[#stack + 1] = d end
      end
    end
    return {'found', flat(t)}
  end
end
local deps = {}
for _, d in ipairs(split(ARGV[10], ',')) do
  local dep = load(d)
  if not dep then return {'missing', d} end
  deps[#deps + 1] = dep
end
local id = tostring(redis.call('INCR', P .. 'tseq'))
local t = {id = id, q = q, ti = ARGV[5], de = ARGV[6], da = ARGV[7], pr = ARGV[8], tg = ARGV[9],
           dp = ARGV[10], pe = '0', dn = '', s = 'waiting', a = '0', m = ARGV[12],
           r = num(NOW + delay), tk = '0', h = '', cb = '', ls = '0', by = AGENT, ca = WALL,
           ua = WALL, w = '', qj = ARGV[15], tj = ARGV[16]}
if to ~= '' then t.to = to end
if key ~= '' then t.k = key end
local pending, gone = 0, nil
for _, dep in ipairs(deps) do
  if dep.s == 'dead' or dep.s == 'cancelled' then
    gone = gone or dep
  elseif dep.s ~= 'done' then
    pending = pending + 1
  end
  if not FINISHED[dep.s] then
    redis.call('HSET', tkey(dep.id), 'dn', dep.dn == '' and id or dep.dn .. ',' .. id)
  end
end
t.pe = tostring(pending)
if gone then
  t.s, t.er = 'cancelled', 'dependency ' .. gone.id .. ' is ' .. gone.s
elseif pending == 0 and delay <= 0 then
  t.s = 'ready'
end
if key ~= '' then redis.call('HSET', qk('tk', q), key, id) end
local tags = {}
for _, g in ipairs(split(t.tg, '\t')) do tags[#tags + 1] = jstr(g) end
emit('task_put', t, ',"priority":' .. t.pr .. ',"tags":[' .. table.concat(tags, ',') .. '],"to":'
     .. (t.to and jstr(t.to) or 'null'))
if gone then emit('task_cancelled', t, ',"error":' .. jstr(t.er)) end
enter(t)
settle()
-- the rest of the task is what the caller gave (redis/_async_tasks.py puts it together)
return {'new', id, WALL, t.s, t.r, t.pe, t.a, t.tk, t.h, t.cb, t.ls, t.er or ''}

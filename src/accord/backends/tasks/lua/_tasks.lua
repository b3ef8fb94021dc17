-- Shared by the task scripts: the Python side puts its constants and this text in
-- front of each. The same rule as tasks/rule.py and tasks/records.py, on these keys
-- (P = 'accord:{<ns>}:', <q> = '<byte length of the queue name>:<queue name>'):
--   task:<id>        hash: the task (fields below; an absent optional field is nil)
--   tseq             the counter of ids and claim tokens
--   tr:<q>:<lane>    zset of ready tasks of a lane: score -priority, member the id as
--                    16 digits (same score: by id, first put first)
--   td:<q>           zset of timed changes: score when due (server us), member the id
--   ts:<q>:<status>  zset of the queue's tasks of a status (score: id), ta:<q> all
--   tk:<q>           hash: idempotency key -> id
--   tw:<q>, twr:<q>  waiting claimers: zset (score: first registered) and hash
--                    mailbox -> '<expires us>\n<claim line>\n<lane>\n<lane>...', the
--                    claim line (rule.waiting) 'c\t<lease s>\t<max_events>\t<agent>\t
--                    <holder>' (no lane starts with 'c': older readers pass over it)
--   mba:<mailbox>    a waiter's presence: set when it registers, renewed by each BLPOP
--                    of its mailbox (MAILBOX_ALIVE_MS); without it the waiter is dead
--   tc               zset (lex): '<holder>\n<id>' of every claim (a claim handed to a
--                    waiter: holder '<holder>\31<mailbox>')
-- (qj and tj: the queue and title as JSON strings, for the events)
-- ARGV[1] is P, ARGV[2] the agent acting, ARGV[3] the events kept (0: append none).
-- (a number given to redis.call, or made a string, costs a printf: the hot paths keep
-- numbers as the digits they came as)
local FINISHED = {done = true, dead = true, cancelled = true}
local FIELDS = {'id', 'q', 'ti', 'de', 'da', 'pr', 'tg', 'dp', 'pe', 'dn', 's', 'a', 'm', 'r',
                'tk', 'h', 'cb', 'ls', 'by', 'ca', 'ua', 'w', 'qj', 'tj'}
local OPTIONAL = {'to', 'k', 're', 'er'}
-- @call: what each call starts with (loaded as a function library, the helpers below
-- are defined once, and only these lines run per call: redis/_lua.py, Library)
local P, AGENT, KEEP = ARGV[1], ARGV[2], ARGV[3]
local MAX_EVENTS = tonumber(KEEP)
local TIME = redis.call('TIME')
local NOW = tonumber(TIME[1]) * 1000000 + tonumber(TIME[2])
local WALL = TIME[1] .. '.' .. string.rep('0', 6 - #TIME[2]) .. TIME[2]
local ENDED = {}  -- finished tasks whose dependents are still to be told
local ASKING = ''  -- the waiter of the claim running, if any: not handed a task
local AGENT_JSON  -- the agent as a JSON string, made when first needed (emit)
-- @end

local function num(n) return string.format('%d', n) end
local function qk(kind, q) return P .. kind .. ':' .. #q .. ':' .. q end
local function tkey(id) return P .. 'task:' .. id end
local function member(id) return string.rep('0', 16 - #id) .. id end
local function jstr(s) return cjson.encode(s) end

-- the parts of text between sep (empty parts kept); {} for '' or nil
local function split(text, sep)
  local out = {}
  if not text or text == '' then return out end
  local start = 1
  while true do
    local i = string.find(text, sep, start, true)
    if not i then
      out[#out + 1] = string.sub(text, start)
      return out
    end
    out[#out + 1] = string.sub(text, start, i - 1)
    start = i + #sep
  end
end

local function load(id)
  local flat = redis.call('HGETALL', tkey(id))
  if #flat == 0 then return nil end
  local t, was = {}, {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1]; was[flat[i]] = flat[i + 1] end
  t._s, t._h, t._was = t.s, t.h, was
  return t
end

local function flat(t)
  local out = {}
  for _, f in ipairs(FIELDS) do out[#out + 1] = f; out[#out + 1] = t[f] or '' end
  for _, f in ipairs(OPTIONAL) do
    if t[f] then out[#out + 1] = f; out[#out + 1] = t[f] end
  end
  return out
end

-- the task as its values in the order of FIELDS then OPTIONAL (false: an optional field
-- absent): a claim's reply, half the size of flat (redis/_task_lua.py: task_row)
local function row(t)
  local out = {}
  for i, f in ipairs(FIELDS) do out[i] = t[f] or '' end
  local n = #out
  for i, f in ipairs(OPTIONAL) do out[n + i] = t[f] or false end
  return out
end

-- write the fields that changed since load
local function save(t)
  local was, set, gone = t._was or {}, {}, {}
  for _, f in ipairs(FIELDS) do
    local v = t[f] or ''
    if was[f] ~= v then set[#set + 1] = f; set[#set + 1] = v; was[f] = v end
  end
  for _, f in ipairs(OPTIONAL) do
    local v = t[f]
    if v and was[f] ~= v then
      set[#set + 1] = f; set[#set + 1] = v; was[f] = v
    elseif not v and was[f] then
      gone[#gone + 1] = f; was[f] = nil
    end
  end
  t._was = was
  if #set > 0 then redis.call('HSET', tkey(t.id), unpack(set)) end
  if #gone > 0 then redis.call('HDEL', tkey(t.id), unpack(gone)) end
  if t.s ~= t._s then
    if t._s then
      redis.call('ZREM', qk('ts', t.q) .. ':' .. t._s, t.id)
    else
      redis.call('ZADD', qk('ta', t.q), t.id, t.id)
    end
    redis.call('ZADD', qk('ts', t.q) .. ':' .. t.s, t.id, t.id)
    t._s = t.s
  end
  if (t.h or '') ~= (t._h or '') then
    if t._h and t._h ~= '' then redis.call('ZREM', P .. 'tc', t._h .. '\n' .. t.id) end
    if t.h ~= '' then redis.call('ZADD', P .. 'tc', '0', t.h .. '\n' .. t.id) end
    t._h = t.h
  end
end

local function post(mailbox, message)
  local mb = P .. 'mb:' .. mailbox
  redis.call('RPUSH', mb, message)
  redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
end

-- append a lifecycle event by `agent` (emit: the one acting) keeping `keep` events
-- (digits)
local function log_event(name, t, extra, agent, agent_json, keep)
  if tonumber(keep) <= 0 then return end
  local data = '{"queue":' .. t.qj .. ',"id":"' .. t.id .. '","title":' .. t.tj
    .. ',"agent":' .. agent_json .. ',"attempts":' .. t.a .. (extra or '') .. '}'
  redis.call('XADD', P .. 'events', 'MAXLEN', keep, '*', 'name', name, 'data', data,
             'source', agent)
end

local function emit(name, t, extra)
  if MAX_EVENTS <= 0 then return end
  AGENT_JSON = AGENT_JSON or jstr(AGENT)
  log_event(name, t, extra, AGENT, AGENT_JSON, KEEP)
end

local function lanes_of(t)
  local out = {}
  local tags = split(t.tg, '\t')
  if t.to then
    out[1] = 'a\t' .. t.to
    for _, g in ipairs(tags) do out[#out + 1] = 'a\t' .. t.to .. '\t' .. g end
  else
    out[1] = ''
    for _, g in ipairs(tags) do out[#out + 1] = 't\t' .. g end
  end
  return out
end

local function timed(t)
  return t.s == 'failed' or t.s == 'claimed' or (t.s == 'waiting' and tonumber(t.pe) == 0)
end

-- the claim of rule.claim, for `holder` of `agent`, leased `lease` us
local function claim(t, holder, agent, lease)
  t.s, t.h, t.cb, t.ls, t.ua = 'claimed', holder, agent, lease, WALL
  t.tk = tostring(redis.call('INCR', P .. 'tseq'))
  t.r = num(NOW + tonumber(lease))
  t.a = tostring(tonumber(t.a) + 1)
end

-- a task just made ready: claim it for the first registered waiter (of WAKE_SCAN) that
-- may take it and post it the claim (records._task_hand); a waiter registered by an
-- older accord (no claim line) is only woken
local function hand(t, lanes)
  local q = t.q
  local wk, rk = qk('tw', q), qk('twr', q)
  local want = {}
  for _, l in ipairs(lanes) do want[l] = true end
  for _, w in ipairs(redis.call('ZRANGE', wk, '0', WAKE_LAST)) do
    local parts = split(redis.call('HGET', rk, w), '\n')
    local live, hit = parts[1] and tonumber(parts[1]) > NOW, false
    if live and w ~= ASKING then
      for i = 2, #parts do
        if want[parts[i]] then hit = true; break end
      end
    end
    if hit or not live then
      redis.call('ZREM', wk, w)
      redis.call('HDEL', rk, w)
    end
    local c = hit and split(parts[2], '\t') or {}
    if hit and (c[1] ~= 'c' or #c < 5) then  -- registered by an older accord
      post(w, 't')
      return false
    end
    -- a waiter whose presence ran out (no BLPOP for MAILBOX_ALIVE_MS) died: skipped
    if hit and redis.call('EXISTS', P .. 'mba:' .. w) == 1 then
      -- c, lease (seconds), max_events, agent, holder (the rest: it may hold tabs)
      local holder = table.concat(c, '\t', 5)
      claim(t, holder .. '\31' .. w, c[4], num(tonumber(c[2]) * 1000000))
      log_event('task_claimed', t, '', c[4], jstr(c[4]), c[3])
      -- the claim (rule.handed_message), then the task: the waiter reads no more
      post(w, 'c' .. t.id .. '.' .. t.tk .. ' ' .. cjson.encode(flat(t)))
      return true
    end
  end
  return false
end

-- out of the index of its stored status, before it changes
local function leave(t)
  if t._s == 'ready' then
    local m = member(t.id)
    for _, l in ipairs(lanes_of(t)) do redis.call('ZREM', qk('tr', t.q) .. ':' .. l, m) end
  elseif t._s == 'failed' or t._s == 'claimed' or t._s == 'waiting' then
    redis.call('ZREM', qk('td', t.q), t.id)
  end
end

-- stored in its new status, with the index and the follow-ups it needs
local function enter(t)
  if FINISHED[t.s] then
    for _, w in ipairs(split(t.w, ',')) do post(w, 't') end
    t.w = ''
    if t.dn ~= '' then ENDED[#ENDED + 1] = t.id end
  end
  local lanes
  if t.s == 'ready' then
    lanes = lanes_of(t)
    hand(t, lanes)
  end
  save(t)
  if t.s == 'ready' then
    local m, pr = member(t.id), t.pr  -- score: -priority
    if pr == '0' then
      pr = '0'
    elseif string.sub(pr, 1, 1) == '-' then
      pr = string.sub(pr, 2)
    else
      pr = '-' .. pr
    end
    for _, l in ipairs(lanes) do redis.call('ZADD', qk('tr', t.q) .. ':' .. l, pr, m) end
  elseif timed(t) then
    redis.call('ZADD', qk('td', t.q), t.r, t.id)
  end
end

-- a claim ends without success: failed, ready or dead (rule.end_attempt)
local function end_attempt(t, err, retry, delay)
  t.h, t.er, t.ua = '', err, WALL
  if not retry or tonumber(t.a) >= tonumber(t.m) then
    t.s = 'dead'
  elseif delay > 0 then
    t.s, t.r = 'failed', num(NOW + delay)
  else
    t.s = 'ready'
  end
end

-- text as a canonical JSON string (rule.canonical: UTF-8 as it is, '/' and DEL unescaped)
local function canon(text)
  local out = {}
  for part in string.gmatch(text .. '\127', '(.-)\127') do
    out[#out + 1] = string.sub((string.gsub(cjson.encode(part), '\\/', '/')), 2, -2)
  end
  return '"' .. table.concat(out, '\127') .. '"'
end

-- rule.audit_dead: append the audit entry of task t gone dead (in this step; retention
-- is left to the next append made with audit_keep). Source: who acts, else the claimant.
local function audit_dead(t, why, claimed_by)
  local data = '{"attempts":' .. t.a .. ',"claimed_by":' .. canon(claimed_by) ..
    ',"error":' .. canon(why) .. ',"id":"' .. t.id .. '","kind":"accord.task_dead","queue":' ..
    canon(t.q) .. ',"title":' .. canon(t.ti) .. '}'
  local source = AGENT ~= '' and AGENT or claimed_by
  stream_add(P .. 'stream:accord.audit', P .. 'smeta:accord.audit', source, canon(source),
             data, '')
end

local function expire(t, why)
  leave(t)
  local agent = t.cb
  end_attempt(t, why, true, 0)
  local name = t.s == 'dead' and 'task_dead' or 'task_failed'
  emit(name, t, ',"error":' .. jstr(why) .. ',"claimed_by":' .. jstr(agent))
  if t.s == 'dead' then audit_dead(t, why, agent) end
  enter(t)
end

-- the live claim handed to waiter w claiming for `holder` (hand), taken up: its holder
-- is `holder` again (records._task_handed)
local function handed(holder, w)
  local h = holder .. '\31' .. w .. '\n'
  local found = redis.call('ZRANGEBYLEX', P .. 'tc', '[' .. h, '(' .. holder .. '\31' .. w .. '\v',
                           'LIMIT', 0, 1)
  if not found[1] then return nil end
  local t = load(string.sub(found[1], #h + 1))
  if not t or t.s ~= 'claimed' or tonumber(t.r) <= NOW then return nil end
  t.h = holder
  save(t)
  return t
end

-- the task if claim `token` still holds it; a lease found run out ends here
local function claimed(id, token)
  local t = load(id)
  if not t or t.s ~= 'claimed' or t.tk ~= token then return nil end
  if tonumber(t.r) <= NOW then
    expire(t, EXPIRED)
    return nil
  end
  return t
end

local function promote(q)
  local dk = qk('td', q)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', dk, '-inf', num(NOW), 'LIMIT', '0', PROMOTE_LIMIT)) do
    local t = load(id)
    if not t or not timed(t) then
      redis.call('ZREM', dk, id)
    elseif t.s == 'claimed' then
      expire(t, EXPIRED)
    else
      leave(t)
      t.s = 'ready'
      enter(t)
    end
  end
end

-- pass the ends of finished tasks on to the tasks waiting for them (a loop, not
-- recursion: a chain of dependents may be long)
local function settle()
  local i = 1
  while i <= #ENDED do
    local t = load(ENDED[i])
    i = i + 1
    for _, d in ipairs(split(t and t.dn, ',')) do
      local dep = load(d)
      if dep and dep.s == 'waiting' then
        leave(dep)
        if t.s == 'done' then
          local pe = math.max(tonumber(dep.pe) - 1, 0)
          dep.pe = tostring(pe)
          if pe == 0 and tonumber(dep.r) <= NOW then dep.s = 'ready' end
        else
          dep.s, dep.h, dep.ua = 'cancelled', '', WALL
          dep.er = 'dependency ' .. t.id .. ' is ' .. t.s
          emit('task_cancelled', dep, ',"error":' .. jstr(dep.er))
        end
        enter(dep)
      end
    end
  end
end

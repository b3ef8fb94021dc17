-- Shared by the lease scripts: the Python side puts this text at a script's
-- '-- @helpers' line (else in front), after its constants, so each script is
-- self-contained and loaded by SHA.
--
-- ARGV[1] is the namespace prefix 'accord:{<ns>}:'. Times are integer microseconds
-- of the server clock (redis TIME), exact in a Lua double.
--
-- One key holds a whole lease. A lock's (the leases that hold one) is a string, its
-- fields as one MessagePack array (field, value, field, value...), so that acquire.lua reads it and the halt switch with
-- one MGET, and an operation writes it with one SET: a contended acquisition costs
-- the server 12 commands, the holder's GET+SET included (acquire: EVALSHA MGET TIME
-- SET; the waiter's BLPOP; the hand-off: EVALSHA TIME MGET SET RPUSH). A semaphore's
-- is a hash of the same fields in the indexed layout (_indexed.lua). The fields:
-- 'token' (never reset), 'limit', 'seq' (the last queue number given),
-- 'listed' (1 while the key is in the 'leases' index listings walk: it enters with a
-- holder and leaves when a listing finds it idle, so a lock cycle leaves the index
-- alone) and one field 'h:<holder>' per holder or waiter:
--   a holder    '<expires_us> <token>:<mailbox> <agent>' (mailbox empty unless the
--               lease was handed over; it is deleted with an expired holder)
--   a waiter    'q<seq> <expires_us> <ttl_us> <mailbox> <registered> <mode> <since_us>
--               <#intent> <intent><agent>' (parse_waiter); the queue is the waiters by
--               seq; registered = 1 when it is in 'waits'
--   released    '' (a hash's: overwritten in the HSET of a hand-off instead of a
--               separate HDEL; deleted with the next HDEL, or once DEAD_MAX dead
--               fields gathered; a string leaves dead fields out when it is written)
-- A hand-off turns the waiter's field into its holder field in place.
-- A waiter carries its mode, queue time and intent, so a hand-off rewrites its one
-- field and deletes none. Beside them, 'm:<holder>' = '<mode>||<intent>' for a holder
-- of a shared or intent mode or with an intent (rule.py: modes), so an exclusive lease
-- without intent, the hot path, has none (layout 3 also gave each waiter one).
-- Semaphores' leases ('sem/') add counts and two sorted sets to these fields: the
-- indexed layout of _indexed.lua, run by the '*_ix.lua' twins of acquire, release and
-- abandon. Counters of coord.metrics() gather in rec.counted and go to the lease's
-- own field 'c' (a JSON list), written by flush() in the record's one write.

local P = ARGV[1]
local DEAD_MAX = 8
-- the counters of rule.METRICS, by index
local WAITS, WAIT_TOTAL, WAIT_MAX, TIMEOUTS, DEADLOCKS, LOST, REVOKED = 1, 2, 3, 4, 5, 6, 7

local function count(rec, what, amount)
  rec.counted = rec.counted or {0, 0, 0, 0, 0, 0, 0}
  if what == WAIT_MAX then
    rec.counted[what] = math.max(rec.counted[what], amount)
  else
    rec.counted[what] = rec.counted[what] + amount
  end
end

-- Add rec.counted to the lease's counters, its field 'c' (JSON; durations in seconds,
-- as rule.py counts), written by flush() with the rest of the record: counting costs
-- no command of its own (coord.metrics() reads the field).
local function save_counted(rec)
  local c = rec.cstore and cjson.decode(rec.cstore) or {0, 0, 0, 0, 0, 0, 0}
  for i = 1, 7 do
    if i == WAIT_MAX then
      c[i] = math.max(c[i], rec.counted[i])
    else
      c[i] = c[i] + rec.counted[i]
    end
  end
  rec.cstore = cjson.encode(c)
  rec.set['c'] = rec.cstore
  rec.counted = nil
end

-- Refuse fenced writes of `key` with `tok` or an older token from now on: the hash
-- 'floors' (lease key -> newest token revoked) that state_set.lua reads.
local function raise_floor(key, tok)
  local fk = P .. 'floors'
  if tok > tonumber(redis.call('HGET', fk, key) or '0') then
    redis.call('HSET', fk, key, tok)
  end
end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function parse_holder(v)
  local exp, tok, mb, agent = string.match(v, '^(%d+) (%d+):?(%S*) (.*)$')
  if not exp then
    return nil
  end
  return {exp = tonumber(exp), tok = tonumber(tok), mb = mb, agent = agent}
end

-- A live holder is read as {exp, raw}; its token, mailbox and agent are parsed on first
-- use, so that an operation on a semaphore with many holders parses only what it uses.
local LAZY = {__index = function(h, k)
  local p = parse_holder(h.raw)
  h.tok, h.mb, h.agent = p.tok, p.mb, p.agent
  return rawget(h, k)
end}

-- A waiter: 'q<seq> <exp> <ttl> <mailbox> <registered> <mode> <since> <#intent> <intent><agent>'
-- (its mode, the time it first queued and its intent folded in, so that a hand-off
-- rewrites this one field and deletes none). Layout 3 wrote 'w<seq> <exp> <ttl>
-- <mailbox> <registered> <agent>' with the mode in 'm:<holder>': still read (mode nil).
local function parse_waiter(v)
  if string.byte(v, 1) == 119 then -- 'w': layout 3
    local seq, exp, ttl, mb, reg, agent = string.match(v, '^w(%d+) (%d+) (%d+) (%S+) (%d) (.*)$')
    return {seq = tonumber(seq), exp = tonumber(exp), ttl = tonumber(ttl), mb = mb,
            reg = reg == '1', agent = agent}
  end
  local seq, exp, ttl, mb, reg, mode, since, n, rest =
    string.match(v, '^q(%d+) (%d+) (%d+) (%S+) (%d) (%u*) (%d+) (%d+) (.*)$')
  n = tonumber(n)
  return {seq = tonumber(seq), exp = tonumber(exp), ttl = tonumber(ttl), mb = mb,
          reg = reg == '1', mode = mode, since = tonumber(since),
          intent = string.sub(rest, 1, n), agent = string.sub(rest, n + 1)}
end

local function is_waiter(v)
  local b = string.byte(v, 1)
  return b == 113 or b == 119 -- 'q' or 'w'
end

local function waiter_text(w)
  return string.format('q%d %d %d %s %d %s %d %d %s%s', w.seq, w.exp, w.ttl, w.mb,
                       w.reg and 1 or 0, w.mode or '', w.since or 0, #(w.intent or ''),
                       w.intent or '', w.agent)
end

-- The lease record: token, limit, live holders and waiters by holder id; `dead` the
-- fields to delete (released, expired) and `gone` the mailboxes of expired holders.
-- Writes gather in `set` (field -> value) and `del`, for flush().
-- A semaphore's lease ('sem/...'): a hash, in the indexed layout of _indexed.lua.
local function is_ix_key(lk)
  return string.sub(lk, #P + 7, #P + 10) == 'sem/'
end

-- The fields of lease `lk` as a flat list {field, value, ...}; then whether it is kept
-- as a string (a lock's), and whether it is a hash of layout 3 to turn into one.
-- `raw`: its string as read already (false: no string there).
local function read_fields(lk, raw)
  if is_ix_key(lk) then
    return redis.call('HGETALL', lk), false, false
  end
  if raw == nil then
    raw = redis.call('MGET', lk)[1] -- MGET, not GET: nil, not an error, for a hash
  end
  if raw then
    return cmsgpack.unpack(raw), true, false
  end
  if redis.call('TYPE', lk).ok == 'hash' then -- a lock of layout 3, turned into a string
    return redis.call('HGETALL', lk), true, true
  end
  return {}, true, false
end

local function load_lease(lk, now, raw)
  local flat, str, migrate = read_fields(lk, raw)
  local rec = {token = 0, limit = 1, seq = 0, n = 0, holders = {}, waiters = {}, nw = 0,
               dead = {}, gone = {}, set = {}, del = {}, released = {}, promoted = {},
               modes = {}, exists = #flat > 0, str = str, migrate = migrate}
  local all = str and {} or nil
  rec.all = all
  for i = 1, #flat, 2 do
    local f, v = flat[i], flat[i + 1]
    if all then
      all[f] = v
    end
    if f == 'token' then
      rec.token = tonumber(v)
    elseif f == 'limit' then
      rec.limit = tonumber(v)
    elseif f == 'seq' then
      rec.seq = tonumber(v)
    elseif f == 'listed' then
      rec.listed = true
    elseif f == 'c' then
      rec.cstore = v
    elseif string.byte(f, 1) == 35 then -- '#...': the counts of the indexed layout
      rec.indexed = true
    elseif string.byte(f, 1) == 109 then -- 'm:<holder>'
      local mode, since, intent = string.match(v, '^(%u*)|(%d*)|(.*)$')
      rec.modes[string.sub(f, 3)] = {mode = mode or '', since = tonumber(since) or 0,
                                     intent = intent or ''}
      rec.nm = true
    elseif v == '' then
      rec.dead[#rec.dead + 1] = f
    elseif is_waiter(v) then
      local w = parse_waiter(v)
      if w.exp > now then
        rec.waiters[string.sub(f, 3)] = w
        rec.nw = rec.nw + 1
      else
        rec.dead[#rec.dead + 1] = f
      end
    else
      local exp = tonumber(string.match(v, '^%d+'))
      if exp and exp > now then
        rec.holders[string.sub(f, 3)] = setmetatable({exp = exp, raw = v}, LAZY)
        rec.n = rec.n + 1
      else
        rec.dead[#rec.dead + 1] = f
        local h = parse_holder(v)
        if h then
          rec.lost = (rec.lost or 0) + 1
        end
        if h and h.mb ~= '' then
          rec.gone[#rec.gone + 1] = P .. 'mb:' .. h.mb
        end
      end
    end
  end
  if rec.lost then -- counted once: their fields go in this script's HDEL
    count(rec, LOST, rec.lost)
    rec.force = true
  end
  if rec.nm then
    for h, _ in pairs(rec.modes) do -- the mode of an entry gone goes with it
      if not rec.holders[h] and not rec.waiters[h] then
        rec.dead[#rec.dead + 1] = 'm:' .. h
      end
    end
  end
  return rec
end

local function mode_of(rec, h)
  local w = rec.waiters[h]
  if w and w.mode then
    return w.mode
  end
  local m = rec.modes[h]
  return m and m.mode or ''
end

-- rule.fits: may a request of `mode` hold beside the current holders?
local function fits(rec, mode)
  if mode == '' then
    return rec.n < rec.limit
  end
  local ok = ({S = {S = true, IS = true}, IS = {S = true, IS = true, IX = true},
               IX = {IS = true, IX = true}})[mode]
  for h, _ in pairs(rec.holders) do
    if not ok[mode_of(rec, h)] then
      return false
    end
  end
  return true
end

-- A lock's lease, a string: one SET of the whole record, dead fields left out (a write
-- that would only drop dead fields waits for `force` or DEAD_MAX of them).
local function flush_string(lk, rec, force)
  if rec.counted then
    save_counted(rec)
  end
  force = force or rec.force or rec.migrate
  if next(rec.set) == nil and #rec.del == 0 and #rec.released == 0 and not force
     and #rec.dead < DEAD_MAX then
    return
  end
  local all = rec.all
  for _, list in ipairs({rec.dead, rec.released, rec.del}) do
    for _, f in ipairs(list) do
      all[f] = nil
    end
  end
  for f, v in pairs(rec.set) do
    all[f] = v
  end
  local flat = {}
  for f, v in pairs(all) do
    flat[#flat + 1] = f
    flat[#flat + 1] = v
  end
  if #rec.gone > 0 then
    redis.call('DEL', unpack(rec.gone))
  end
  redis.call('SET', lk, cmsgpack.pack(flat))
end

-- Write what gathered in rec. A semaphore's hash: at most one HDEL and one HSET. Dead
-- fields go with an HDEL that runs anyway (or `force`, or once DEAD_MAX gathered);
-- released holders are deleted then, else overwritten with '' in the HSET.
local function flush(lk, rec, force)
  if rec.str then
    return flush_string(lk, rec, force)
  end
  if rec.counted then
    save_counted(rec)
  end
  local del = rec.del
  local pairs_ = {}
  for f, v in pairs(rec.set) do
    pairs_[#pairs_ + 1] = f
    pairs_[#pairs_ + 1] = v
  end
  force = force or rec.force
  if #del > 0 or force or #pairs_ == 0 and #rec.released > 0 or #rec.dead >= DEAD_MAX then
    for _, f in ipairs(rec.dead) do
      if rec.set[f] == nil then
        del[#del + 1] = f
      end
    end
    for _, f in ipairs(rec.released) do
      if rec.set[f] == nil then
        del[#del + 1] = f
      end
    end
    if #rec.gone > 0 then
      redis.call('DEL', unpack(rec.gone))
    end
  else
    for _, f in ipairs(rec.released) do
      if rec.set[f] == nil then
        pairs_[#pairs_ + 1] = f
        pairs_[#pairs_ + 1] = ''
      end
    end
  end
  if #del > 0 then
    redis.call('HDEL', lk, unpack(del))
  end
  if #pairs_ > 0 then
    redis.call('HSET', lk, unpack(pairs_))
  end
end

-- A fresh grant: the next token. A lease not listed yet enters the index listings walk.
local function grant(rec, key, holder, agent, mb, ttl, now, mode, intent)
  local tok = rec.token + 1
  local exp = now + ttl
  rec.token = tok
  rec.set['token'] = tok
  rec.set['h:' .. holder] = string.format('%d %d:%s %s', exp, tok, mb, agent)
  if mode and (mode ~= '' or intent ~= '') then
    rec.set['m:' .. holder] = mode .. '||' .. intent
    rec.modes[holder] = {mode = mode, since = 0, intent = intent}
  elseif rec.nm and rec.modes[holder] then
    rec.modes[holder] = nil
    rec.del[#rec.del + 1] = 'm:' .. holder
  end
  if not rec.listed then
    redis.call('ZADD', P .. 'leases', 0, key)
    rec.set['listed'] = 1
    rec.listed = true
  end
  if not rec.holders[holder] then
    rec.n = rec.n + 1
  end
  rec.holders[holder] = {exp = exp, tok = tok, mb = mb, agent = agent}
  return tok
end

local function release_holder(rec, holder)
  rec.holders[holder] = nil
  rec.n = rec.n - 1
  rec.released[#rec.released + 1] = 'h:' .. holder
  if rec.modes[holder] then
    rec.modes[holder] = nil
    rec.del[#rec.del + 1] = 'm:' .. holder
  end
end

-- The live waiters in queue order: {holder, waiter data} by seq.
local function queue_of(rec)
  local q = {}
  for h, w in pairs(rec.waiters) do
    q[#q + 1] = {h, w}
  end
  table.sort(q, function(a, b) return a[2].seq < b[2].seq end)
  return q
end

-- (holder id, holder) of the oldest grant among `holders` (the lowest token), else nil
local function oldest(holders)
  local best, found
  for h, v in pairs(holders) do
    if not best or v.tok < best.tok then
      best, found = v, h
    end
  end
  return found, best
end

local function soonest_expiry(rec)
  local soonest
  for _, h in pairs(rec.holders) do
    if not soonest or h.exp < soonest then
      soonest = h.exp
    end
  end
  return soonest
end

-- The queue head asks again on its own at the latest ttl/2 after it last asked. When
-- a slot frees sooner (say a hand-off went to a waiter that has died since), wake it
-- with an empty message: its mailbox returns, and it asks when to look next.
local function nudge_head(head, rec)
  local soonest = soonest_expiry(rec)
  if head and soonest and soonest < head.exp - head.ttl / 2 then
    local mb = P .. 'mb:' .. head.mb
    redis.call('RPUSH', mb, '')
    redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
  end
end

-- Hand free slots to the queue in FIFO order (expired waiters are gone already). The
-- promoted waiter's mailbox gets its token in this same script: the waiter pops it at
-- once, and a dead waiter's mailbox goes with its expired holder field (load_lease).
-- Returns true when the queue ran empty.
local function promote(rec, key, now)
  if rec.nw == 0 then
    return true
  end
  local q = queue_of(rec)
  local i = 1
  while q[i] and fits(rec, mode_of(rec, q[i][1])) do
    local h, w = q[i][1], q[i][2]
    i = i + 1
    rec.waiters[h] = nil
    rec.nw = rec.nw - 1
    local m = w.mode and w or rec.modes[h] or {mode = '', since = now, intent = ''}
    local waited = (now - m.since) / 1e6
    count(rec, WAIT_TOTAL, waited)
    count(rec, WAIT_MAX, waited)
    local tok = grant(rec, key, h, w.agent, w.mb, w.ttl, now, m.mode, m.intent)
    rec.promoted[h] = true
    redis.call('RPUSH', P .. 'mb:' .. w.mb, tok)
    if w.reg then -- it entered the wait-for graph: it leaves it if there for this key
      local v = redis.call('HGET', P .. 'waits', h)
      if v and string.match(v, '^%d+ (.*)$') == key then
        redis.call('HDEL', P .. 'waits', h)
      end
    end
  end
  if i > 1 then
    nudge_head(q[i] and q[i][2], rec)
  end
  return rec.nw == 0
end

-- The indexed layout, of the leases that can hold many (semaphores: keys 'sem/...'),
-- inserted after _leases.lua. An operation on it costs O(log holders), not O(holders):
-- the hash holds the same fields as above (holder and waiter fields read by name with
-- HMGET/HGET, never HGETALL) and the counts '#n' (holders), '#q' (queue entries),
-- '#S' '#IS' '#IX' (holders by shared mode), beside two sorted sets:
--   'lexp:<key>'  holder -> expiry: the expired found with ZRANGEBYSCORE ... LIMIT
--   'lq:<key>'    waiter -> queue number: the head found with ZRANGE 0 0
-- A call drops at most SWEEP expired holders or dead queue heads (the next call drops
-- more), so its work is bounded. A lease of layout 3 is indexed once, by the first
-- operation that finds it (ix_rebuild, O(its holders)); operations that walk every
-- holder anyway (force_release, revoke) run the whole-record code and rebuild.

local SWEEP = 64

local function indexed(key)
  return string.sub(key, 1, 4) == 'sem/'
end

local function call_chunked(cmd, key, args)
  for i = 1, #args, 1000 do
    redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
  end
end

-- Rebuild the counts and sorted sets of an indexed lease from `rec` (load_lease's
-- record, its writes flushed); a waiter of layout 3 gets its mode into its own field.
local function ix_rebuild(lk, key, rec)
  local ek, qk = P .. 'lexp:' .. key, P .. 'lq:' .. key
  redis.call('DEL', ek, qk)
  local c = {n = 0, S = 0, IS = 0, IX = 0}
  local zh, zq, rewrite, olds = {}, {}, {}, {}
  for h, v in pairs(rec.holders) do
    c.n = c.n + 1
    local m = rec.modes[h]
    if m and m.mode ~= '' then
      c[m.mode] = c[m.mode] + 1
    end
    zh[#zh + 1] = v.exp
    zh[#zh + 1] = h
  end
  for h, w in pairs(rec.waiters) do
    zq[#zq + 1] = w.seq
    zq[#zq + 1] = h
    if not w.mode then
      local m = rec.modes[h] or {mode = '', since = 0, intent = ''}
      w.mode, w.since, w.intent = m.mode, m.since, m.intent
      rewrite[#rewrite + 1] = 'h:' .. h
      rewrite[#rewrite + 1] = waiter_text(w)
      olds[#olds + 1] = 'm:' .. h
    end
  end
  call_chunked('ZADD', ek, zh)
  call_chunked('ZADD', qk, zq)
  redis.call('HSET', lk, '#n', c.n, '#q', #zq / 2, '#S', c.S, '#IS', c.IS, '#IX', c.IX)
  call_chunked('HSET', lk, rewrite)
  call_chunked('HDEL', lk, olds)
end

local IX_FIELDS = {'token', 'limit', 'seq', '#n', '#q', '#S', '#IS', '#IX', 'c', 'listed'}

local function mode_in(m)
  return m and string.match(m, '^(%u*)|') or ''
end

-- A holder leaves the counts and the expiry set (its fields deleted at ix_flush).
local function ix_drop_holder(r, h, mode, had_m)
  r.n = r.n - 1
  if mode ~= '' then
    r.c[mode] = r.c[mode] - 1
  end
  r.set['h:' .. h] = false
  if had_m then
    r.set['m:' .. h] = false
  end
  redis.call('ZREM', r.ek, h)
end

-- The record of an indexed lease: its fields, the caller's own entry (own_holder, a
-- holder's, live or not; own_waiter), after dropping up to SWEEP expired holders.
local function ix_load(lk, key, now, holder)
  local ask = {unpack(IX_FIELDS)}
  ask[#ask + 1] = 'h:' .. holder
  ask[#ask + 1] = 'm:' .. holder
  local f = redis.call('HMGET', lk, unpack(ask))
  if not f[4] and (f[1] or f[3] or f[9] or f[10]) then -- of layout 3: index it, once
    local rec = load_lease(lk, now)
    flush(lk, rec, true)
    ix_rebuild(lk, key, rec)
    f = redis.call('HMGET', lk, unpack(ask))
  end
  local r = {lk = lk, key = key, ek = P .. 'lexp:' .. key, qk = P .. 'lq:' .. key,
             token = tonumber(f[1] or '0'), limit = tonumber(f[2] or '1'),
             seq = tonumber(f[3] or '0'), n = tonumber(f[4] or '0'), nq = tonumber(f[5] or '0'),
             c = {S = tonumber(f[6] or '0'), IS = tonumber(f[7] or '0'),
                  IX = tonumber(f[8] or '0')},
             cstore = f[9] or nil, listed = f[10] and true or false, set = {}, promoted = {},
             holder = holder}
  local own, own_m = f[11], f[12]
  if own and own ~= '' then
    if is_waiter(own) then
      r.own_waiter = parse_waiter(own)
    else
      r.own_holder = parse_holder(own)
      if r.own_holder then
        r.own_holder.mode, r.own_holder.had_m = mode_in(own_m), own_m and true
        local m = own_m and string.match(own_m, '^%u*|%d*|(.*)$')
        r.own_holder.intent = m or ''
      end
    end
  end
  local gone = redis.call('ZRANGEBYSCORE', r.ek, '-inf', now, 'LIMIT', 0, SWEEP)
  if #gone > 0 then
    local mbs, lost = {}, 0
    for _, h in ipairs(gone) do
      local v = redis.call('HMGET', lk, 'h:' .. h, 'm:' .. h)
      local p = v[1] and not is_waiter(v[1]) and parse_holder(v[1])
      if p then
        if p.mb ~= '' then
          mbs[#mbs + 1] = P .. 'mb:' .. p.mb
        end
        ix_drop_holder(r, h, mode_in(v[2]), v[2] and true)
        lost = lost + 1
        if h == holder then
          r.own_holder = nil
        end
      else
        redis.call('ZREM', r.ek, h)
      end
    end
    if #mbs > 0 then
      redis.call('DEL', unpack(mbs))
    end
    if lost > 0 then
      count(r, LOST, lost)
    end
  end
  return r
end

-- rule.fits from the counts: exclusive holders are those of no shared mode.
local function ix_fits(r, mode)
  if mode == '' then
    return r.n < r.limit
  end
  local x = r.n - r.c.S - r.c.IS - r.c.IX
  if mode == 'S' then
    return x == 0 and r.c.IX == 0
  elseif mode == 'IS' then
    return x == 0
  end
  return x == 0 and r.c.S == 0 -- IX
end

local function ix_grant(r, holder, agent, mb, ttl, now, mode, intent)
  local tok = r.token + 1
  local exp = now + ttl
  r.token = tok
  r.set['token'] = tok
  r.set['h:' .. holder] = string.format('%d %d:%s %s', exp, tok, mb, agent)
  redis.call('ZADD', r.ek, exp, holder)
  r.n = r.n + 1
  if mode ~= '' then
    r.c[mode] = r.c[mode] + 1
  end
  if mode ~= '' or intent ~= '' then
    r.set['m:' .. holder] = mode .. '||' .. intent
  end
  if not r.listed then
    redis.call('ZADD', P .. 'leases', 0, r.key)
    r.set['listed'] = 1
    r.listed = true
  end
  return tok, exp
end

-- One HDEL and one HSET at most (the counts ride along with any write).
local function ix_flush(r)
  if r.counted then
    save_counted(r)
  end
  if next(r.set) == nil then
    return
  end
  r.set['#n'], r.set['#q'] = r.n, r.nq
  r.set['#S'], r.set['#IS'], r.set['#IX'] = r.c.S, r.c.IS, r.c.IX
  local hset, hdel = {}, {}
  for f, v in pairs(r.set) do
    if v == false then
      hdel[#hdel + 1] = f
    else
      hset[#hset + 1] = f
      hset[#hset + 1] = v
    end
  end
  if #hdel > 0 then
    redis.call('HDEL', r.lk, unpack(hdel))
  end
  redis.call('HSET', r.lk, unpack(hset))
end

local function ix_field(r, f)
  local v = r.set[f]
  if v == nil then
    v = redis.call('HGET', r.lk, f)
  end
  return v or nil
end

-- promote: free slots to the queue head on, FIFO; dead heads dropped on the way.
local function ix_promote(r, now)
  local steps, granted, head = 0, 0, nil
  while r.nq > 0 and steps < SWEEP do
    steps = steps + 1
    local h = redis.call('ZRANGE', r.qk, 0, 0)[1]
    if not h then
      r.nq = 0
      r.set['#q'] = 0
      break
    end
    local v = ix_field(r, 'h:' .. h)
    local w = v and is_waiter(v) and parse_waiter(v)
    if w and w.exp > now and not ix_fits(r, w.mode or '') then
      head = w
      break
    end
    redis.call('ZREM', r.qk, h)
    r.nq = r.nq - 1
    if h == r.holder then
      r.own_waiter = nil
    end
    if w and w.exp > now then
      local waited = (now - (w.since or now)) / 1e6
      count(r, WAIT_TOTAL, waited)
      count(r, WAIT_MAX, waited)
      local tok, exp = ix_grant(r, h, w.agent, w.mb, w.ttl, now, w.mode or '', w.intent or '')
      r.promoted[h] = {tok = tok, exp = exp}
      granted = granted + 1
      redis.call('RPUSH', P .. 'mb:' .. w.mb, tok)
      if w.reg then
        local x = redis.call('HGET', P .. 'waits', h)
        if x and string.match(x, '^%d+ (.*)$') == r.key then
          redis.call('HDEL', P .. 'waits', h)
        end
      end
    elseif w then
      r.set['h:' .. h] = false
    end
  end
  if granted > 0 and head then -- see nudge_head
    local first = redis.call('ZRANGE', r.ek, 0, 0, 'WITHSCORES')
    if first[2] and tonumber(first[2]) < head.exp - head.ttl / 2 then
      local mb = P .. 'mb:' .. head.mb
      redis.call('RPUSH', mb, '')
      redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
    end
  end
end

-- The holder whose lease ends first: {agent, us left, intent}, or nil.
local function ix_first(r, now)
  local first = redis.call('ZRANGE', r.ek, 0, 0, 'WITHSCORES')
  if not first[1] then
    return nil
  end
  local p = parse_holder(ix_field(r, 'h:' .. first[1]) or '')
  local m = ix_field(r, 'm:' .. first[1])
  return {first[1], p and p.agent or '', math.max(0, tonumber(first[2]) - now),
          m and string.match(m, '^%u*|%d*|(.*)$') or ''}
end

-- The caller's own live holder entry goes (released, or passed on).
local function ix_release_own(r)
  local o = r.own_holder
  ix_drop_holder(r, r.holder, o.mode, o.had_m)
  r.own_holder = nil
end

-- Shared by the lease scripts: the Python side puts this text at a script's
-- '-- @helpers' line (else in front), after its constants, so each script is
-- self-contained and loaded by SHA.
--
-- ARGV[1] is the namespace prefix 'accord:{<ns>}:'. Times are integer microseconds
-- of the server clock (redis TIME), exact in a Lua double.
--
-- A lease hash holds 'token' (never reset), 'limit', and one field 'h:<holder>'
-- = '<expires_us> <token> <agent>' per holder. A waiter's data, in the waiters
-- hash, is '<expires_us> <ttl_us>\n<holder>\n<agent>'; the queue list keeps order.

local P = ARGV[1]

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function parse_holder(v)
  local exp, tok, agent = string.match(v, '^(%d+) (%d+) (.*)$')
  return tonumber(exp), tonumber(tok), agent
end

local function parse_waiter(v)
  local exp, ttl, holder, agent = string.match(v, '^(%d+) (%d+)\n([^\n]*)\n(.*)$')
  return tonumber(exp), tonumber(ttl), holder, agent
end

-- The lease record: token, limit and live holders ({exp, token, agent} by holder).
-- purge=true deletes expired holders (only in scripts that write).
local function load_lease(lk, now, purge)
  local flat = redis.call('HGETALL', lk)
  local rec = {token = 0, limit = 1, n = 0, holders = {}, promoted = {}, exists = #flat > 0}
  local dead = {}
  for i = 1, #flat, 2 do
    local f, v = flat[i], flat[i + 1]
    if f == 'token' then
      rec.token = tonumber(v)
    elseif f == 'limit' then
      rec.limit = tonumber(v)
    else
      local exp, tok, agent = parse_holder(v)
      if exp > now then
        rec.holders[string.sub(f, 3)] = {exp, tok, agent}
        rec.n = rec.n + 1
      else
        dead[#dead + 1] = f
      end
    end
  end
  if purge and #dead > 0 then
    redis.call('HDEL', lk, unpack(dead))
  end
  return rec
end

-- A fresh grant: the next token and the holder's field in one HSET. A lease that had no
-- live holder enters the index of live leases ('leases'), which listings walk, unless
-- it had waiters (`queued`: a hand-off), which kept it there.
local function grant(lk, rec, key, holder, agent, ttl, now, queued)
  local tok = rec.token + 1
  local exp = now + ttl
  redis.call('HSET', lk, 'token', tok, 'h:' .. holder, string.format('%d %d %s', exp, tok, agent))
  if rec.n == 0 and not queued then
    redis.call('ZADD', P .. 'leases', 0, key)
  end
  if not rec.holders[holder] then
    rec.n = rec.n + 1
  end
  rec.holders[holder] = {exp, tok, agent}
  rec.token = tok
  return tok
end

-- The queue head asks again on its own at the latest ttl/2 after it last asked. When
-- a slot frees sooner (say a hand-off went to a waiter that has died since), wake it
-- with an empty message: its mailbox returns, and it asks when to look next.
local function nudge_head(qk, wk, rec)
  local w = redis.call('LINDEX', qk, 0)
  local data = w and redis.call('HGET', wk, w)
  if not data then
    return
  end
  local exp, ttl = parse_waiter(data)
  local soonest
  for _, v in pairs(rec.holders) do
    if not soonest or v[1] < soonest then
      soonest = v[1]
    end
  end
  if soonest and soonest < exp - ttl / 2 then
    local mb = P .. 'mb:' .. w
    redis.call('RPUSH', mb, '')
    redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
  end
end

-- Hand free slots to the queue head in FIFO order; expired waiters are dropped.
-- The promoted waiter's mailbox gets its token in this same script. Returns true when
-- the queue ran empty.
local function promote(lk, qk, wk, rec, key, now)
  local promoted = false
  while rec.n < rec.limit do
    local w = redis.call('LPOP', qk)
    if not w then
      return true
    end
    local data = redis.call('HGET', wk, w)
    if data then
      redis.call('HDEL', wk, w)
      local exp, ttl, holder, agent = parse_waiter(data)
      if exp > now then
        local tok = grant(lk, rec, key, holder, agent, ttl, now, true)
        rec.promoted[holder] = true
        local mb = P .. 'mb:' .. w
        redis.call('RPUSH', mb, tok)
        redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
        redis.call('HDEL', P .. 'waits', holder)
        promoted = true
      end
    end
  end
  if promoted then
    nudge_head(qk, wk, rec)
  end
  return false
end

-- Promote after a slot freed; a lease left without holders or waiters leaves the index
-- of live leases (its hash stays: it keeps the token).
local function promote_or_idle(lk, qk, wk, rec, key, now)
  if promote(lk, qk, wk, rec, key, now) and rec.n == 0 then
    redis.call('ZREM', P .. 'leases', key)
  end
end

-- Leave the queue and give up a slot handed over meanwhile (rule.abandon).
local function leave(lk, qk, wk, rec, key, waiter, holder, now)
  redis.call('LREM', qk, 0, waiter)
  redis.call('HDEL', wk, waiter)
  if rec.holders[holder] then
    rec.holders[holder] = nil
    rec.n = rec.n - 1
    redis.call('HDEL', lk, 'h:' .. holder)
  end
  promote_or_idle(lk, qk, wk, rec, key, now)
end

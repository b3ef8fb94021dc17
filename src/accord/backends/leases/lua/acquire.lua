-- Grant, queue or refuse one lease request: rule.acquire + records.acquire.
-- KEYS: lease hash (the queue, waiters and waits keys follow from the prefix)
-- ARGV: prefix, key, holder, agent, waiter, ttl_us, limit, wait (0/1), detect (0/1)
-- Reply: token (granted now) | {1, token, us left} (handed over by this call's promote)
--        | {2, first holder's agent or '', us until the first lease expires}
--        | {3, agent, key, agent, key, ...} (waiting would close this cycle)
local key, holder, agent, waiter = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local lk, qk, wk, waits = KEYS[1], P .. 'queue:' .. key, P .. 'waiter:' .. key, P .. 'waits'
local ttl, limit, wait = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local now = now_us()

local rec = load_lease(lk, now, true)
if rec.limit ~= limit then
  redis.call('HSET', lk, 'limit', limit)
  rec.limit = limit
end
promote(lk, qk, wk, rec, key, now)
-- only a waiting request has an entry in the wait-for graph ('waits')
local mine = rec.holders[holder]
if mine and rec.promoted[holder] then -- handed over by this very call
  if wait then
    redis.call('HDEL', waits, holder)
  end
  return {1, mine[2], mine[1] - now}
end
-- A holder asking again lost track of its lease (a hand-off it has not heard of, a
-- release that failed on the way): a fresh grant, new token and the ttl asked for.
if mine or rec.n < rec.limit then -- or a free slot and, after promote, an empty queue
  local tok = grant(lk, rec, key, holder, agent, ttl, now)
  if wait then
    redis.call('HDEL', waits, holder)
  end
  return tok
end

-- Refused: what follows is defined only when it is needed.

-- (holder, agent) of the live holder of a single-holder lock, else nil; the lease of
-- this call is the record loaded already
local function lock_holder(k)
  local lease = rec
  if k ~= key then
    lease = load_lease(P .. 'lease:' .. k, now, false)
  end
  if not lease.exists or lease.limit ~= 1 then
    return nil
  end
  local best, found
  for h, v in pairs(lease.holders) do
    if not best or v[2] < best[2] then
      best, found = v, h
    end
  end
  if best then
    return found, best[3]
  end
  return nil
end

local function waiting_on(h)
  local v = redis.call('HGET', waits, h)
  if not v then
    return nil
  end
  local exp, k = string.match(v, '^(%d+) (.*)$')
  if tonumber(exp) > now then
    return k
  end
  redis.call('HDEL', waits, h)
  return nil
end

-- rule.find_cycle: holder -> the key it waits for -> that key's holder ... -> me
local function find_cycle()
  local steps = {3, agent, key}
  local k = key
  for _ = 1, MAX_CYCLE do
    local h, a = lock_holder(k)
    if not h then
      return nil
    end
    if h == holder then
      return steps
    end
    local nxt = waiting_on(h)
    if not nxt then
      return nil
    end
    steps[#steps + 1] = a
    steps[#steps + 1] = nxt
    k = nxt
  end
  return nil
end

local function enqueue()
  local data = string.format('%d %d\n%s\n%s', now + ttl, ttl, holder, agent)
  if redis.call('HSETNX', wk, waiter, data) == 1 then -- the first ask: queue it
    redis.call('RPUSH', qk, waiter)
    return
  end
  local exp, cttl, chold, cagent = parse_waiter(redis.call('HGET', wk, waiter))
  if exp > now then -- still queued: keep its place, push its expiry
    data = string.format('%d %d\n%s\n%s', now + ttl, cttl, chold, cagent)
  else -- expired: it queues again at the end
    redis.call('LREM', qk, 0, waiter)
    redis.call('RPUSH', qk, waiter)
  end
  redis.call('HSET', wk, waiter, data)
end

local function waiting(rec)
  local first, soonest = nil, nil
  for _, v in pairs(rec.holders) do
    if not first or v[2] < first[2] then
      first = v
    end
    if not soonest or v[1] < soonest then
      soonest = v[1]
    end
  end
  if not first then
    return {2, '', 0}
  end
  return {2, first[3], math.max(0, soonest - now)}
end

if not wait then
  return waiting(rec)
end
enqueue()
if ARGV[9] == '1' then
  local cycle = find_cycle()
  if cycle then
    leave(lk, qk, wk, rec, key, waiter, holder, now)
    redis.call('HDEL', waits, holder)
    return cycle
  end
end
redis.call('HSET', waits, holder, string.format('%d %s', now + ttl, key))
return waiting(rec)

-- acquire.lua for a lease of the indexed layout (_indexed.lua): the same arguments
-- and replies, in O(log holders).
local key, holder, agent, waiter = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local lk, waits = KEYS[1], P .. 'waits'
local ttl, limit, wait = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local detect = wait and ARGV[9] == '1'
local mode, intent = ARGV[10] or '', ARGV[11] or ''
local halted = redis.call('GET', P .. 'halt')
if halted then
  return {4, halted}
end
local now = now_us()

local r = ix_load(lk, key, now, holder)
if r.limit ~= limit then
  r.set['limit'] = limit
  r.limit = limit
end
ix_promote(r, now)
local handed = r.promoted[holder]
if handed then -- handed over by this very call
  ix_flush(r)
  return {1, handed.tok, handed.exp - now}
end
local o = r.own_holder
if o and o.exp <= now then -- expired, not swept yet: gone now
  ix_release_own(r)
  count(r, LOST, 1)
  o = nil
end
if o or (r.nq == 0 and ix_fits(r, mode)) then
  if o then
    ix_release_own(r)
  end
  local tok = ix_grant(r, holder, agent, '', ttl, now, mode, intent)
  ix_flush(r)
  if wait then
    redis.call('HDEL', waits, holder)
  end
  return tok
end

local function waiting()
  local first = ix_first(r, now)
  if not first then
    return {2, '', 0, ''}
  end
  return {2, first[2], first[3], first[4]}
end

if not wait then
  ix_flush(r)
  return waiting()
end

-- Queue (or, asked again while queued, keep the place and push the expiry).
local prev = r.own_waiter -- in the queue, live or not
local cur = prev and prev.exp > now and prev
local entry = {seq = 0, exp = now + ttl, ttl = ttl, mb = waiter, reg = detect, agent = agent,
               mode = mode, since = now, intent = intent}
if cur then
  entry.seq, entry.ttl, entry.agent, entry.reg = cur.seq, cur.ttl, cur.agent, detect or cur.reg
  entry.mode, entry.since, entry.intent = cur.mode or '', cur.since or now, cur.intent or ''
else
  r.seq = r.seq + 1
  entry.seq = r.seq
  r.set['seq'] = r.seq
  redis.call('ZADD', r.qk, entry.seq, holder)
  if not prev then
    r.nq = r.nq + 1
  end
  count(r, WAITS, 1)
end
r.set['h:' .. holder] = waiter_text(entry)

if not detect then
  ix_flush(r)
  return waiting()
end

local cycle = find_cycle(key, holder, agent, now, function()
  if r.limit ~= 1 then
    return nil
  end
  local first = ix_first(r, now)
  if first and first[3] > 0 then
    return first[1], first[2]
  end
  return nil
end)
if cycle then -- leave the queue (nothing was handed to this waiter: it was refused)
  r.set['h:' .. holder] = false
  redis.call('ZREM', r.qk, holder)
  r.nq = r.nq - 1
  count(r, DEADLOCKS, 1)
  ix_flush(r)
  redis.call('HDEL', waits, holder)
  return cycle
end
ix_flush(r)
redis.call('HSET', waits, holder, string.format('%d %s', now + ttl, key))
return waiting()

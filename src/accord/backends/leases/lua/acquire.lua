-- Grant, queue or refuse one lease request: rule.acquire + records.acquire.
-- KEYS: lease hash (the waits key follows from the prefix)
-- ARGV: prefix, key, holder, agent, waiter, ttl_us, limit, wait (0/1), detect (0/1),
--       mode ('' exclusive, S, IS, IX), intent
-- Reply: token (granted now) | {1, token, us left} (handed over by this call's promote)
--        | {2, first holder's agent or '', us until the first lease expires, intent}
--        | {3, agent, key, agent, key, ...} (waiting would close this cycle)
--        | {4, reason} (the namespace is halted)
local key, holder, agent, waiter = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local lk, waits = KEYS[1], P .. 'waits'
local ttl, limit, wait = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local detect = wait and ARGV[9] == '1' -- only such a waiter is in the wait-for graph
local mode, intent = ARGV[10] or '', ARGV[11] or ''
-- the halt switch and the lease in one command (a lock's lease is a string)
local got = redis.call('MGET', P .. 'halt', lk)
if got[1] then
  return {4, got[1]}
end
local now = now_us()

local rec = load_lease(lk, now, got[2])
if rec.limit ~= limit then
  rec.set['limit'] = limit
  rec.limit = limit
end
promote(rec, key, now)
local mine = rec.holders[holder]
if mine and rec.promoted[holder] then -- handed over by this very call
  flush(lk, rec, false)
  return {1, mine.tok, mine.exp - now}
end
-- A holder asking again lost track of its lease (a hand-off it has not heard of, a
-- release that failed on the way): a fresh grant, new token and the ttl asked for.
if mine or (rec.nw == 0 and (mode == '' and rec.n < rec.limit or mode ~= '' and fits(rec, mode)))
then
  local tok = grant(rec, key, holder, agent, '', ttl, now, mode, intent)
  flush(lk, rec, false)
  if wait then
    redis.call('HDEL', waits, holder)
  end
  return tok
end

-- Refused: what follows is defined only when it is needed.

local function waiting()
  local first_h, first = oldest(rec.holders)
  if not first then
    return {2, '', 0, ''}
  end
  local m = rec.modes[first_h]
  return {2, first.agent, math.max(0, soonest_expiry(rec) - now), m and m.intent or ''}
end

if not wait then
  flush(lk, rec, false)
  return waiting()
end

-- Queue (or, asked again while queued, keep the place and push the expiry).
local cur = rec.waiters[holder]
local entry = {seq = 0, exp = now + ttl, ttl = ttl, mb = waiter, reg = detect, agent = agent,
               mode = mode, since = now, intent = intent}
if cur then
  entry.seq, entry.ttl, entry.agent, entry.reg = cur.seq, cur.ttl, cur.agent, detect or cur.reg
  local m = cur.mode and cur or rec.modes[holder] -- layout 3: its mode in 'm:<holder>'
  if m then
    entry.mode, entry.since, entry.intent = m.mode, m.since, m.intent
  end
else
  rec.seq = rec.seq + 1
  entry.seq = rec.seq
  rec.set['seq'] = rec.seq
  count(rec, WAITS, 1)
end
rec.set['h:' .. holder] = waiter_text(entry)

if not detect then
  flush(lk, rec, false)
  return waiting()
end

local cycle = find_cycle(key, holder, agent, now, function()
  return lock_holder_in(rec)
end)
if cycle then -- leave the queue (nothing was handed to this waiter: it was refused)
  rec.set['h:' .. holder] = nil
  if rec.modes[holder] then
    rec.del[#rec.del + 1] = 'm:' .. holder
  end
  if cur then
    rec.del[#rec.del + 1] = 'h:' .. holder
  end
  count(rec, DEADLOCKS, 1)
  flush(lk, rec, false)
  redis.call('HDEL', waits, holder)
  return cycle
end
flush(lk, rec, false)
redis.call('HSET', waits, holder, string.format('%d %s', now + ttl, key))
return waiting()

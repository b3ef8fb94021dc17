-- Deadlock detection, shared by the acquire scripts (inserted after _leases.lua).

-- (holder, agent) of the live holder of a single-holder lock `lease` (a load_lease
-- record), else nil
local function lock_holder_in(lease)
  if not lease.exists or lease.limit ~= 1 then
    return nil
  end
  local found, best = oldest(lease.holders)
  if best then
    return found, best.agent
  end
  return nil
end

-- rule.find_cycle: holder -> the key it waits for -> that key's holder ... -> me.
-- own() gives the holder of `key`, the lease of this call, loaded already.
local function find_cycle(key, holder, agent, now, own)
  local waits = P .. 'waits'
  local steps = {3, agent, key}
  local k = key
  for _ = 1, MAX_CYCLE do
    local h, a
    if k == key then
      h, a = own()
    else
      h, a = lock_holder_in(load_lease(P .. 'lease:' .. k, now))
    end
    if not h then
      return nil
    end
    if h == holder then
      return steps
    end
    local v = redis.call('HGET', waits, h)
    local exp, nxt = string.match(v or '', '^(%d+) (.*)$')
    if not exp then
      return nil
    end
    if tonumber(exp) <= now then
      redis.call('HDEL', waits, h)
      return nil
    end
    steps[#steps + 1] = a
    steps[#steps + 1] = nxt
    k = nxt
  end
  return nil
end

-- The meta of several streams in one round trip.
-- KEYS: their meta hashes   Reply: last, head, base of each (false where none)
local out = {}
for i, mk in ipairs(KEYS) do
  out[i] = redis.call('HMGET', mk, 'last', 'head', 'base')
end
return out

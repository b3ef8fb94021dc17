-- The meta of several streams in one round trip.
-- KEYS: their metas   Reply: 'last head base' of each, '' where none
local out = {}
for i, mk in ipairs(KEYS) do
  out[i] = redis.call('GET', mk) or ''
end
return out

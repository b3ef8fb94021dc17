-- Forget the consumers of a group that hold no claims and were idle for a while:
-- mostly coordinators that stopped (each reads under a name of its own). A consumer
-- that still holds claims stays until another member takes them over, so nothing is
-- lost; one that was only quiet is made again by its next read.
-- KEYS: the events stream   ARGV: group, idle ms
-- Reply: how many consumers were forgotten
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then
  return 0 -- no such group (yet): nothing to forget
end
local idle, gone = tonumber(ARGV[2]), 0
for _, row in ipairs(consumers) do
  local f = {}
  for i = 1, #row, 2 do
    f[row[i]] = row[i + 1]
  end
  if f['pending'] == 0 and f['idle'] >= idle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    gone = gone + 1
  end
end
return gone

-- Append an event unless the namespace is halted (agents/: the key 'halt').
-- KEYS: the log (stream), the halt key   ARGV: max events, name, data, source
-- Reply: {0, event id} | {1, halt reason}
local halted = redis.call('GET', KEYS[2])
if halted then
  return {1, halted}
end
return {0, redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'name', ARGV[2], 'data', ARGV[3],
                      'source', ARGV[4])}

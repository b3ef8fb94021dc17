-- Append to a stream: streams/rule.py append and trim_to, in _streams.lua.
-- KEYS: the stream, its meta   ARGV: source, source as JSON, data, keep ('' for all)
-- Reply: 'id time hash prev' (time in microseconds): one string, the cheapest to send
-- @helpers
return table.concat(stream_add(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]), ' ')

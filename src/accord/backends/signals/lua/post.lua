-- Deliver a message to a mailbox exactly as a hand-off does (expires unless taken).
-- KEYS: the mailbox list   ARGV: message (never empty: an empty one is a nudge)
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], MAILBOX_TTL_MS)
return 1

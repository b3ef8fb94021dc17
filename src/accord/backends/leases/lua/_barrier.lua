-- Shared by the barrier scripts (inserted in front, after the constants).
-- KEYS[1] is the barrier: the list of the mailbox ids waiting in its current round.
-- ARGV[1] is the namespace prefix 'accord:{<ns>}:'.

local P = ARGV[1]

local function position(waiters, waiter)
  for i, w in ipairs(waiters) do
    if w == waiter then
      return i - 1
    end
  end
  return nil
end

-- Push `message` to every waiter's mailbox but `except`, as a hand-off pushes a token.
local function post_all(waiters, message, except)
  for _, w in ipairs(waiters) do
    if w ~= except then
      local mb = P .. 'mb:' .. w
      redis.call('RPUSH', mb, message)
      redis.call('PEXPIRE', mb, MAILBOX_TTL_MS)
    end
  end
end

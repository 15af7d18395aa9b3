-- Saves a session, atomically refusing (0) when the user's sessions were
-- all ended since its sign-in began, or when the session it replaces is gone.
-- KEYS[1]: the user's generation; KEYS[2]: the new session;
-- KEYS[3] (optional): the session it replaces.
-- ARGV[1]: the session's generation; ARGV[2]: its record; ARGV[3]: TTL (ms);
-- ARGV[4]: the invalidation channel; ARGV[5]: the replaced session's key.
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then
  return 0
end
if KEYS[3] then
  if redis.call('DEL', KEYS[3]) == 0 then
    return 0
  end
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1

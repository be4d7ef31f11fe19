"""The Redis store's Lua scripts (each runs atomically); see :mod:`bot.store.redis`."""

from __future__ import annotations

# Shared Lua helpers. Effects arrive flattened in ARGV from index ``i``:
#   has_complete, complete_key, complete_token,
#   has_inbox, inbox_key, inbox_token,
#   n_cancel, key*, n_timers, (key kind due payload)*,
#   n_outbox, (id platform op dest has_card card body prio created nb cardprefix)*,
#   n_audit, (at actor action subject detail)*,
#   n_counts, (name amount)*
LUA_EFFECTS = """
local function timer_delete(P, key)
  redis.call('DEL', P .. 'timer:' .. key)
  redis.call('ZREM', P .. 'timers:due', key)
  redis.call('ZREM', P .. 'timers:ready', key)
end

local function fence_holds(P, i)
  if ARGV[i] == '1' then
    local tok = redis.call('HGET', P .. 'timer:' .. ARGV[i + 1], 'token')
    if tok == false or tok ~= ARGV[i + 2] then return false end
  end
  if ARGV[i + 3] == '1' then
    local tok = redis.call('HGET', P .. 'in:' .. ARGV[i + 4], 'token')
    if tok == false or tok ~= ARGV[i + 5] then return false end
  end
  return true
end

local function inbox_delete(P, key)
  local h = P .. 'in:' .. key
  local q = redis.call('HGET', h, 'q')
  if q then redis.call('ZREM', q, key) end
  redis.call('DEL', h)
end

local function apply_effects(P, i)
  if ARGV[i] == '1' then timer_delete(P, ARGV[i + 1]) end
  if ARGV[i + 3] == '1' then inbox_delete(P, ARGV[i + 4]) end
  i = i + 6
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do timer_delete(P, ARGV[i]); i = i + 1 end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local key, due = ARGV[i], ARGV[i + 2]
    local h = P .. 'timer:' .. key
    redis.call('DEL', h)
    redis.call('HSET', h, 'kind', ARGV[i + 1], 'due', due, 'payload', ARGV[i + 3],
      'attempts', 0)
    redis.call('ZADD', P .. 'timers:due', due, key)
    redis.call('ZADD', P .. 'timers:ready', due, key)
    i = i + 4
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local id, platform = ARGV[i], ARGV[i + 1]
    local h = P .. 'ob:' .. id
    if redis.call('EXISTS', h) == 0 then
      local seq = redis.call('INCR', P .. 'seq:outbox')
      local score = string.format('%.0f', tonumber(ARGV[i + 7]) * 1099511627776 + seq)
      redis.call('HSET', h, 'platform', platform, 'op', ARGV[i + 2], 'dest', ARGV[i + 3],
        'has_card', ARGV[i + 4], 'card', ARGV[i + 5], 'body', ARGV[i + 6],
        'prio', ARGV[i + 7], 'created', ARGV[i + 8], 'nb', ARGV[i + 9],
        'cards', ARGV[i + 10], 'seq', seq, 'attempts', 0)
      redis.call('ZADD', P .. 'obq:' .. platform, score, id)
      redis.call('SADD', P .. 'outbox:ids', id)
    end
    i = i + 11
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local subject = ARGV[i + 3]
    local id = redis.call('XADD', P .. 'audit', '*', 'at', ARGV[i], 'actor', ARGV[i + 1],
      'action', ARGV[i + 2], 'subject', subject, 'detail', ARGV[i + 4])
    redis.call('RPUSH', P .. 'audit:s:' .. subject, id)
    i = i + 5
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HINCRBY', P .. 'counts', ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
"""

# KEYS[1] record hash. ARGV: P kind key data tags_json tag_keys_json expected
# ('' = insert), effects from 8. Reply {1, version} or {0[, v, d, t]}.
LUA_WRITE = (
    LUA_EFFECTS
    + """
local P, rk = ARGV[1], KEYS[1]
local cur = redis.call('HMGET', rk, 'v', 'd', 't', 'tk', 's')
local exists = cur[1] ~= false
local function refused()
  if exists then return {0, cur[1], cur[2], cur[3]} end
  return {0}
end
if ARGV[7] == '' then
  if exists then return refused() end
elseif (exists and tonumber(cur[1]) or 0) ~= tonumber(ARGV[7]) then
  return refused()
end
if not fence_holds(P, 8) then return refused() end
local version, seq
if exists then
  version = tonumber(cur[1]) + 1
  seq = cur[5]
  for _, tk in ipairs(cjson.decode(cur[4])) do redis.call('ZREM', tk, rk) end
else
  version = 1
  seq = redis.call('INCR', P .. 'seq:rec')
end
redis.call('HSET', rk, 'kind', ARGV[2], 'key', ARGV[3], 'v', version, 'd', ARGV[4],
  't', ARGV[5], 'tk', ARGV[6], 's', seq)
for _, tk in ipairs(cjson.decode(ARGV[6])) do redis.call('ZADD', tk, seq, rk) end
apply_effects(P, 8)
return {1, version}
"""
)

# KEYS[1] record hash. ARGV: P expected, effects from 3. Reply {1} or {0[, v, d, t]}.
LUA_DELETE = (
    LUA_EFFECTS
    + """
local P, rk = ARGV[1], KEYS[1]
local cur = redis.call('HMGET', rk, 'v', 'd', 't', 'tk')
if cur[1] == false then return {0} end
if tonumber(cur[1]) ~= tonumber(ARGV[2]) or not fence_holds(P, 3) then
  return {0, cur[1], cur[2], cur[3]}
end
for _, tk in ipairs(cjson.decode(cur[4])) do redis.call('ZREM', tk, rk) end
redis.call('DEL', rk)
apply_effects(P, 3)
return {1}
"""
)

# KEYS[1] any key of the store. ARGV: P, effects from 2.
LUA_APPLY = (
    LUA_EFFECTS
    + """
if not fence_holds(ARGV[1], 2) then return 0 end
apply_effects(ARGV[1], 2)
return 1
"""
)

# KEYS[1] tag zset, KEYS[2] the record to start after (with ARGV[3] = 1). ARGV: limit offset after?.
LUA_FIND = """
local out = {}
local first = tonumber(ARGV[2] or 0)
local limit = tonumber(ARGV[1])
local keys
if ARGV[3] == '1' then
  local since = redis.call('HGET', KEYS[2], 's') or 0
  keys = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. since, '+inf', 'LIMIT', first, limit)
else
  keys = redis.call('ZRANGE', KEYS[1], first, first + limit - 1)
end
for _, rk in ipairs(keys) do
  local h = redis.call('HMGET', rk, 'kind', 'key', 'v', 'd', 't')
  if h[1] then table.insert(out, h) end
end
return out
"""

# KEYS[1] idempotency key. ARGV: now, expires_at, px.
LUA_PUT_ONCE = """
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS[1] timers:ready. ARGV: P now lease_until owner limit.
LUA_LEASE_TIMERS = """
local P = ARGV[1]
local out = {}
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[5]))
for _, key in ipairs(keys) do
  local h = P .. 'timer:' .. key
  local tok = redis.call('INCR', P .. 'seq:token')
  local attempts = redis.call('HINCRBY', h, 'attempts', 1)
  redis.call('HSET', h, 'owner', ARGV[4], 'lease', ARGV[3], 'token', tok)
  redis.call('ZADD', KEYS[1], ARGV[3], key)
  local f = redis.call('HMGET', h, 'kind', 'due', 'payload')
  table.insert(out, {key, f[1], f[2], f[3], tok, attempts})
end
return out
"""

# KEYS[1] timer hash. ARGV: P key token.
LUA_COMPLETE_TIMER = """
local tok = redis.call('HGET', KEYS[1], 'token')
if not tok or tok ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'timers:due', ARGV[2])
redis.call('ZREM', ARGV[1] .. 'timers:ready', ARGV[2])
return 1
"""

# KEYS[1] timers:due. ARGV: P prefix.
LUA_PENDING_TIMERS = """
local prefix = ARGV[2]
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(key, 1, #prefix) == prefix then
    local f = redis.call('HMGET', ARGV[1] .. 'timer:' .. key, 'kind', 'due', 'payload')
    if f[1] then table.insert(out, {key, f[1], f[2], f[3]}) end
  end
end
return out
"""

# KEYS[1] platform queue. ARGV: P now lease_until owner limit.
LUA_LEASE_OUTBOX = """
local P = ARGV[1]
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[5])
local out = {}
local start = 0
while #out < limit do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 99)
  if #ids == 0 then break end
  local dropped = 0
  for _, id in ipairs(ids) do
    local h = P .. 'ob:' .. id
    local f = redis.call('HMGET', h, 'nb', 'lease', 'cancelled')
    if f[3] and (not f[2] or tonumber(f[2]) <= now) then
      -- cancelled while its holder's lease ran out (it died mid-send): gone
      redis.call('DEL', h)
      redis.call('ZREM', KEYS[1], id)
      redis.call('SREM', P .. 'outbox:ids', id)
      dropped = dropped + 1
    elseif (not f[1] or f[1] == '' or tonumber(f[1]) <= now)
        and (not f[2] or tonumber(f[2]) <= now) then
      local tok = redis.call('INCR', P .. 'seq:token')
      local attempts = redis.call('HINCRBY', h, 'attempts', 1)
      redis.call('HSET', h, 'owner', ARGV[4], 'lease', ARGV[3], 'token', tok)
      local d = redis.call('HMGET', h, 'platform', 'op', 'dest', 'has_card', 'card', 'body',
        'prio', 'created', 'nb')
      table.insert(out, {id, d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9],
        tok, attempts})
      if #out >= limit then break end
    end
  end
  start = start + 100 - dropped
end
return out
"""

# KEYS[1] item hash. ARGV: P id token has_ref card_key ref, effects from 7
# (never completing a timer or inbox entry: the item's token is the fence).
LUA_FINISH_OUTBOX = (
    LUA_EFFECTS
    + """
local f = redis.call('HMGET', KEYS[1], 'token', 'platform', 'cards')
if not f[1] or f[1] ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'obq:' .. f[2], ARGV[2])
redis.call('SREM', ARGV[1] .. 'outbox:ids', ARGV[2])
if ARGV[4] == '1' then redis.call('RPUSH', f[3] .. ARGV[5], ARGV[6]) end
apply_effects(ARGV[1], 7)
return 1
"""
)

# KEYS[1] item hash. ARGV: token not_before P id.
LUA_RETRY_OUTBOX = """
local f = redis.call('HMGET', KEYS[1], 'token', 'cancelled', 'platform')
if not f[1] or f[1] ~= ARGV[1] then return 0 end
if f[2] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', ARGV[3] .. 'obq:' .. f[3], ARGV[4])
  redis.call('SREM', ARGV[3] .. 'outbox:ids', ARGV[4])
  return 1
end
redis.call('HDEL', KEYS[1], 'token', 'owner', 'lease')
redis.call('HSET', KEYS[1], 'nb', ARGV[2])
return 1
"""

# KEYS[1] item hash. ARGV: P id.
LUA_CANCEL_OUTBOX = """
local f = redis.call('HMGET', KEYS[1], 'platform', 'token')
if not f[1] then return 0 end
if f[2] then
  redis.call('HSET', KEYS[1], 'cancelled', '1')
  return 1
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'obq:' .. f[1], ARGV[2])
redis.call('SREM', ARGV[1] .. 'outbox:ids', ARGV[2])
return 1
"""

# KEYS[1] subject list, KEYS[2] audit stream. ARGV: limit.
LUA_AUDIT_SUBJECT = """
local out = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local e = redis.call('XRANGE', KEYS[2], id, id)
  if e[1] then table.insert(out, e[1]) end
end
return out
"""


# KEYS[1] admitted-key marker, KEYS[2] entry hash, KEYS[3] platform queue.
# ARGV: P now remember_until px lease_until owner platform body received key.
# Reply: the lease token, or 0 for a redelivery.
LUA_ADMIT_INBOX = """
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local tok = redis.call('INCR', ARGV[1] .. 'seq:token')
redis.call('HSET', KEYS[2], 'platform', ARGV[7], 'body', ARGV[8], 'at', ARGV[9],
  'owner', ARGV[6], 'lease', ARGV[5], 'token', tok, 'attempts', 1, 'q', KEYS[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[10])
return tok
"""

# KEYS[1] platform queue. ARGV: P now lease_until owner limit.
LUA_LEASE_INBOX = """
local P = ARGV[1]
local out = {}
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[5]))
for _, key in ipairs(keys) do
  local h = P .. 'in:' .. key
  local tok = redis.call('INCR', P .. 'seq:token')
  local attempts = redis.call('HINCRBY', h, 'attempts', 1)
  redis.call('HSET', h, 'owner', ARGV[4], 'lease', ARGV[3], 'token', tok)
  redis.call('ZADD', KEYS[1], ARGV[3], key)
  local f = redis.call('HMGET', h, 'body', 'at')
  table.insert(out, {key, f[1], f[2], tok, attempts})
end
return out
"""

# KEYS[1] outbox:ids. ARGV: P. Per platform: waiting items and the smallest
# created time (a scan of every waiting item: fine for thousands, and only
# read when /metrics is scraped).
LUA_OUTBOX_BACKLOG = """
local found, order = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local f = redis.call('HMGET', ARGV[1] .. 'ob:' .. id, 'platform', 'created')
  if f[1] then
    local created = tonumber(f[2])
    local entry = found[f[1]]
    if entry == nil then
      entry = {0, created}
      found[f[1]] = entry
      table.insert(order, f[1])
    end
    entry[1] = entry[1] + 1
    if created < entry[2] then entry[2] = created end
  end
end
local out = {}
for _, platform in ipairs(order) do
  local entry = found[platform]
  table.insert(out, {platform, entry[1], string.format('%.0f', entry[2])})
end
return out
"""

# KEYS[1] entry hash. ARGV: key token.
LUA_FINISH_INBOX = """
local f = redis.call('HMGET', KEYS[1], 'token', 'q')
if not f[1] or f[1] ~= ARGV[2] then return 0 end
redis.call('ZREM', f[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
"""

# Every script, by the name the store calls it with.
SOURCES = {
    "write": LUA_WRITE,
    "delete": LUA_DELETE,
    "apply": LUA_APPLY,
    "find": LUA_FIND,
    "put_once": LUA_PUT_ONCE,
    "lease_timers": LUA_LEASE_TIMERS,
    "complete_timer": LUA_COMPLETE_TIMER,
    "pending_timers": LUA_PENDING_TIMERS,
    "lease_outbox": LUA_LEASE_OUTBOX,
    "finish_outbox": LUA_FINISH_OUTBOX,
    "retry_outbox": LUA_RETRY_OUTBOX,
    "cancel_outbox": LUA_CANCEL_OUTBOX,
    "audit_subject": LUA_AUDIT_SUBJECT,
    "admit_inbox": LUA_ADMIT_INBOX,
    "lease_inbox": LUA_LEASE_INBOX,
    "finish_inbox": LUA_FINISH_INBOX,
    "outbox_backlog": LUA_OUTBOX_BACKLOG,
}

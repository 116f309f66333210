/**
 * Lua scripts of the Redis block index (Redis ≥ 6.2; checked on Debian's 7.0). Layout, with
 * `P` the key prefix (see libs/contracts redis-keys.ts):
 *
 *   P:held:{<pod>}:<tier>  HASH  `<R>` → live engine blocks of the pod with request key R on that tier
 *   P:spec:{<pod>}         ZSET  `<R>` → expiry (ms) of a speculative entry (Redis 7.0 has no HEXPIRE)
 *   P:eng:{<pod>}:<tier>:<b>  HASH  `<E>` → `<R>` or `<copies>|<R1>,<R2>…`: the pod's engine keys,
 *                          in ENGINE_BUCKETS (256) small listpack hashes per tier, b = engineBucketOf(E)
 *   P:pod:{<pod>}          HASH  epoch, seq ('' after a reset), fence, model (of the last batch),
 *                          `t:<tier>` for each tier besides gpu and cpu with engine buckets
 *   P:pods                 SET   pods with a position
 *
 * Everything of one pod sits under its `{<pod>}` hash tag: a write touches one pod's keys only
 * (one Redis Cluster slot, plus the pods set). A lookup reads per candidate pod one HMGET of all
 * the request's keys per tier, so its cost grows with pods, not with keys × pods calls. The
 * lookup script reads several pods' keys, so it needs a standalone Redis for now.
 */

import { ENGINE_BUCKETS } from '@kvr/contracts';

/** Field that pins a held hash to the hashtable encoding (see ensureHeld); never a request key. */
export const ENCODING_SENTINEL = '~';
/** Length of its value: it must exceed the server's hash-max-listpack-value (64 by default). */
export const ENCODING_SENTINEL_BYTES = 256;

/**
 * Lua shared by the scripts that read or write one pod (KEYS[1] is the pod's hash; `prefix` and
 * `pod` are locals of the including script, and so is the `evicted` counter of the writers):
 *   held(tier), specKey      the pod's key names
 *   engKey(tier, e)          the engine-map bucket of engine key e (see engineBucketOf)
 *   engineTiers()            the tiers with engine buckets: gpu and cpu, and each other tier
 *                            the pod hash names in a field `t:<tier>` (any characters allowed)
 *   parse(v) / encode(c, l)  engine-map values: `<R>` for one copy of one key, else
 *                            `<copies>|<R1>,<R2>`; parse gives copies and 'R1,R2'
 */
const POD_READERS = `
local podTag = '{' .. pod .. '}'
local function held(tier) return prefix .. ':held:' .. podTag .. ':' .. tier end
local specKey = prefix .. ':spec:' .. podTag
local function engKey(tier, e)
  return prefix .. ':eng:' .. podTag .. ':' .. tier .. ':' .. (tonumber(string.sub(e, -6)) % ${ENGINE_BUCKETS})
end
local function engineTiers()
  local tiers = { 'gpu', 'cpu' }
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 't:' then tiers[#tiers + 1] = string.sub(field, 3) end
  end
  return tiers
end
local function parse(v)
  local bar = string.find(v, '|', 1, true)
  if not bar then return 1, v end
  return tonumber(string.sub(v, 1, bar - 1)), string.sub(v, bar + 1)
end
local function encode(copies, list)
  if copies == 1 and list ~= '' and not string.find(list, ',', 1, true) then return list end
  return copies .. '|' .. list
end
`;

/**
 * Writers' helpers, after POD_READERS:
 *   noteTier(tier)           records a tier other than gpu and cpu (field `t:<tier>` of the pod hash)
 *   ensureHeld(tier)         creates the tier's held hash with the encoding sentinel
 *   holders(r, tier, d)      adds d to the pod's entry for r on the tier, deleting it at 0
 *   clear()                  removes every block of the pod, counting lost entries in `evicted`
 */
const POD_HELPERS = POD_READERS + `
local notedTiers = {}
local function noteTier(tier)
  if tier == 'gpu' or tier == 'cpu' or notedTiers[tier] then return end
  notedTiers[tier] = true
  redis.call('HSET', KEYS[1], 't:' .. tier, '1')
end
-- A lookup reads ~100 fields of a pod's held hash at once. In the compact listpack encoding
-- (up to hash-max-listpack-entries fields: 512 on Debian's Redis 7.0) every field is a linear
-- scan, which measured 5-6 ms per lookup HMGET on pods of ~500 blocks; a sentinel field whose
-- value is longer than hash-max-listpack-value (64) keeps the hash a hashtable from the start.
local function ensureHeld(tier)
  redis.call('HSETNX', held(tier), '${ENCODING_SENTINEL}', string.rep('-', ${ENCODING_SENTINEL_BYTES}))
end
local function holders(r, tier, delta)
  local key = held(tier)
  local n = redis.call('HINCRBY', key, r, delta)
  if n <= 0 then redis.call('HDEL', key, r) end
  return n
end
local function clear()
  for _, tier in ipairs(engineTiers()) do
    local key = held(tier)
    evicted = evicted + math.max(0, redis.call('HLEN', key) - redis.call('HEXISTS', key, '${ENCODING_SENTINEL}'))
    redis.call('DEL', key)
    local buckets = {}
    for b = 0, ${ENGINE_BUCKETS - 1} do buckets[b + 1] = prefix .. ':eng:' .. podTag .. ':' .. tier .. ':' .. b end
    redis.call('DEL', unpack(buckets))
  end
  -- The engine map of the layout before buckets (one hash per pod), should one be left.
  redis.call('DEL', prefix .. ':eng:' .. podTag)
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 't:' then redis.call('HDEL', KEYS[1], field) end
  end
  notedTiers = {}
end
`;

/**
 * Applies one planned message atomically, if the pod's position and fence are what the caller
 * decided on (compare-and-set): the ordering decision is made in TypeScript (`decidePosition`),
 * the write happens here, and a concurrent change makes the script answer `retry`.
 *
 * KEYS: pod hash, pods set
 * ARGV: prefix, pod, fence ('' none), expected epoch ('' = pod unknown), expected seq,
 *       new epoch, new seq ('' = null), forget (1 = pod removed), model ('' = keep), then ops:
 *       'c' | 's' tier engineKey n R1..Rn | 'r' tier engineKey
 * Returns {status, admitted, evicted, unknownEvictions} with status 'ok' | 'fenced' | 'retry'.
 */
export const APPLY_SCRIPT = `
local prefix, pod = ARGV[1], ARGV[2]
local fence, expEpoch, expSeq = ARGV[3], ARGV[4], ARGV[5]
local newEpoch, newSeq, forget, model = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local cur = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'fence')
if fence ~= '' and cur[3] and tonumber(fence) < tonumber(cur[3]) then return {'fenced', 0, 0, 0} end
if expEpoch == '' then
  if cur[1] then return {'retry', 0, 0, 0} end
else
  if cur[1] ~= expEpoch or (cur[2] or '') ~= expSeq then return {'retry', 0, 0, 0} end
end
local admitted, evicted, unknown = 0, 0, 0
` + POD_HELPERS + `local i = 10
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'c' then
    clear()
    i = i + 1
  elseif op == 's' then
    local tier, e, n = ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
    local bucket = engKey(tier, e)
    local v = redis.call('HGET', bucket, e)
    if v then
      local copies, list = parse(v)
      redis.call('HSET', bucket, e, encode(copies + 1, list))
    else
      local rs = {}
      for k = 1, n do rs[k] = ARGV[i + 3 + k] end
      noteTier(tier)
      redis.call('HSET', bucket, e, encode(1, table.concat(rs, ',')))
      if n > 0 then ensureHeld(tier) end
      for k = 1, n do
        if holders(rs[k], tier, 1) == 1 then admitted = admitted + 1 end
      end
      if n > 0 then redis.call('ZREM', specKey, unpack(rs)) end
    end
    i = i + 4 + n
  else
    local tier, e = ARGV[i + 1], ARGV[i + 2]
    local bucket = engKey(tier, e)
    local v = redis.call('HGET', bucket, e)
    if not v then
      unknown = unknown + 1
    else
      local copies, list = parse(v)
      if copies > 1 then
        redis.call('HSET', bucket, e, encode(copies - 1, list))
      else
        redis.call('HDEL', bucket, e)
        for r in string.gmatch(list, '[^,]+') do
          if holders(r, tier, -1) <= 0 then evicted = evicted + 1 end
        end
      end
    end
    i = i + 3
  end
end
if forget == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], pod)
else
  redis.call('HSET', KEYS[1], 'epoch', newEpoch, 'seq', newSeq)
  if fence ~= '' then redis.call('HSET', KEYS[1], 'fence', fence) end
  if model ~= '' then redis.call('HSET', KEYS[1], 'model', model) end
  redis.call('SADD', KEYS[2], pod)
end
return {'ok', admitted, evicted, unknown}
`;

/**
 * Longest consecutive prefix per candidate pod, in one call: per pod one HMGET of every key per
 * weighted tier (tiers without a weight — none are emitted by vLLM today besides GPU and CPU — are
 * not seen by lookups), then, only past the pod's first real miss, one ZMSCORE for speculative
 * entries of the remaining keys.
 * ARGV: prefix, now (ms), key count, keys…, pod count, pods…, tier count, (tier, weight×1e6)…
 * Returns per pod: matched blocks, weighted score ×1e6 (integer), speculative blocks.
 */
export const LOOKUP_SCRIPT = `
local prefix, now = ARGV[1], tonumber(ARGV[2])
local nk = tonumber(ARGV[3])
local np = tonumber(ARGV[4 + nk])
local wbase = 5 + nk + np
local nw = tonumber(ARGV[wbase])
local keys = {}
for k = 1, nk do keys[k] = ARGV[3 + k] end
local out = {}
for p = 1, np do
  local pod = ARGV[4 + nk + p]
  local tag = prefix .. ':held:{' .. pod .. '}:'
  local specKey = prefix .. ':spec:{' .. pod .. '}'
  -- Most candidates do not hold even the first block: one probe each, before any wide read.
  local first = false
  local present = {}
  for w = 1, nw do
    if redis.call('HEXISTS', tag .. ARGV[wbase + 2 * w - 1], keys[1]) == 1 then
      first, present[w] = true, true
      break
    end
  end
  if not first then
    local exp = redis.call('ZSCORE', specKey, keys[1])
    first = exp and tonumber(exp) > now
  end
  -- best[k]: the best weight among the tiers holding key k (nil: not held).
  local best = {}
  for w = 1, (first and nw or 0) do
    local weight = tonumber(ARGV[wbase + 2 * w])
    local key = tag .. ARGV[wbase + 2 * w - 1]
    -- Most pods hold blocks on one tier only: asking a missing hash for every key costs more.
    if present[w] or redis.call('EXISTS', key) == 1 then
      local counts = redis.call('HMGET', key, unpack(keys))
      for k = 1, nk do
        local c = counts[k]
        if c and tonumber(c) > 0 and weight > (best[k] or 0) then best[k] = weight end
      end
    end
  end
  local matched, score, specs = 0, 0, 0
  local expiries = nil
  for k = 1, (first and nk or 0) do
    if best[k] then
      matched, score = matched + 1, score + best[k]
    else
      if expiries == nil then
        if redis.call('EXISTS', specKey) == 1 then
          expiries = redis.call('ZMSCORE', specKey, unpack(keys, k, nk))
        else
          expiries = {}
        end
        expiries.base = k - 1
      end
      local exp = expiries[k - expiries.base]
      if exp and tonumber(exp) > now then
        matched, score, specs = matched + 1, score + 1000000, specs + 1
      else
        break
      end
    end
  end
  out[#out + 1] = matched
  out[#out + 1] = score
  out[#out + 1] = specs
end
return out
`;

/**
 * Speculative entries for one pod: skipped for keys the pod already holds for real on a weighted
 * tier; expired members of the pod's set are dropped on the way.
 * ARGV: prefix, pod, expiry (ms), ttl (ms), tier count, tiers…, keys…
 */
export const SPECULATE_SCRIPT = `
local prefix, pod, expiry, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local nt = tonumber(ARGV[5])
local tag = '{' .. pod .. '}'
local specKey = prefix .. ':spec:' .. tag
redis.call('ZREMRANGEBYSCORE', specKey, '-inf', expiry - ttl)
for k = 6 + nt, #ARGV do
  local r = ARGV[k]
  local held = false
  for t = 1, nt do
    if redis.call('HEXISTS', prefix .. ':held:' .. tag .. ':' .. ARGV[5 + t], r) == 1 then held = true break end
  end
  if not held then
    redis.call('ZADD', specKey, 'GT', expiry, r)
    redis.call('ZADD', specKey, 'NX', expiry, r)
  end
end
redis.call('PEXPIRE', specKey, ttl, 'GT')
if redis.call('PTTL', specKey) < 0 then redis.call('PEXPIRE', specKey, ttl) end
return 1
`;

/**
 * Writes a pod's state from a snapshot, or forgets the pod, fenced like APPLY. A large pod is
 * written in several calls: the first clears (`clearFirst` 1), the last sets the position
 * (`finish` 'position') or deletes it ('forget'); calls in between only add blocks.
 *
 * KEYS: pod hash, pods set
 * ARGV: prefix, pod, fence ('' none), clearFirst (1/0), finish ('position' | 'forget' | ''),
 *       epoch, seq ('' = null), model ('' = none), then blocks: tier engineKey copies n R1..Rn
 * Returns 'ok' or 'fenced'.
 */
export const RESTORE_SCRIPT = `
local prefix, pod, fence = ARGV[1], ARGV[2], ARGV[3]
local clearFirst, finish = ARGV[4], ARGV[5]
local epoch, seq, model = ARGV[6], ARGV[7], ARGV[8]
local storedFence = redis.call('HGET', KEYS[1], 'fence')
if fence ~= '' and storedFence and tonumber(fence) < tonumber(storedFence) then return 'fenced' end
local evicted = 0
` + POD_HELPERS + `
if clearFirst == '1' then
  clear()
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], pod)
end
local i = 9
while i <= #ARGV do
  local tier, e, copies, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local rs = {}
  if n > 0 then ensureHeld(tier) end
  for k = 1, n do
    rs[k] = ARGV[i + 3 + k]
    holders(rs[k], tier, 1)
  end
  if n > 0 then redis.call('ZREM', specKey, unpack(rs)) end
  noteTier(tier)
  redis.call('HSET', engKey(tier, e), e, encode(tonumber(copies), table.concat(rs, ',')))
  i = i + 4 + n
end
if finish == 'position' then
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', seq)
  if model ~= '' then redis.call('HSET', KEYS[1], 'model', model) end
  if fence ~= '' then redis.call('HSET', KEYS[1], 'fence', fence) end
  redis.call('SADD', KEYS[2], pod)
elseif finish == 'forget' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], pod)
end
return 'ok'
`;

/**
 * A pod's whole state at one moment (a script, so no apply lands in between): nil when the pod
 * has no position, else epoch, seq, model ('' = none), then tier, engine key, value per block.
 * KEYS: pod hash. ARGV: prefix, pod.
 */
export const EXPORT_SCRIPT = `
local prefix, pod = ARGV[1], ARGV[2]
local state = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'model')
if not state[1] then return nil end
` + POD_READERS + `
local out = { state[1], state[2] or '', state[3] or '' }
for _, tier in ipairs(engineTiers()) do
  for b = 0, ${ENGINE_BUCKETS - 1} do
    local entries = redis.call('HGETALL', prefix .. ':eng:' .. podTag .. ':' .. tier .. ':' .. b)
    for k = 1, #entries, 2 do
      out[#out + 1] = tier
      out[#out + 1] = entries[k]
      out[#out + 1] = entries[k + 1]
    end
  end
end
return out
`;

/**
 * Lua scripts of the Redis block index (Redis ≥ 6.2; checked on Debian's 7.0). Layout, with `P`
 * the key prefix (see libs/contracts redis-keys.ts); request keys R and engine keys E are 8-byte
 * big-endian binary strings everywhere (fields, members, arguments), slots decimal:
 *
 *   P:hold:<tier>          HASH  R → holder bitmap: byte i (1-based) holds pod slots 8(i-1)…8(i-1)+7,
 *                                least significant bit first; trailing zero bytes trimmed, an empty
 *                                map deleted. One hash per tier for the whole fleet.
 *   P:multi:{<pod>}:<tier> HASH  R → further live engine blocks of the pod with that request key on
 *                                that tier, beyond the first (rare: only where vLLM blocks collide)
 *   P:eng:{<pod>}:<tier>:<b>  HASH  E → R1R2… (8 bytes each) for one copy; a decimal copy count
 *                                follows the keys when there are more (its length, 1–7, is the
 *                                value's length mod 8: vLLM holds a block a handful of times at
 *                                most). b = the last byte of E: 256 listpack buckets
 *   P:spec:{<pod>}         ZSET  R → expiry (ms) of a speculative entry (Redis 7.0 has no HEXPIRE)
 *   P:pod:{<pod>}          HASH  epoch, seq ('' after a reset), fence, model (of the last batch),
 *                                `t:<tier>` for each tier besides gpu and cpu with engine buckets
 *   P:slot                 HASH  pod → its slot (bit position in the holder bitmaps)
 *   P:slotpod              HASH  slot → pod
 *   P:freeslots            ZSET  slots of forgotten pods, reused lowest first (bitmaps stay short)
 *   P:nextslot             STRING  slots handed out so far
 *   P:pods                 SET   pods with a position
 *
 * Why per request key and not per pod: one entry (a hash field, ~60 B) serves every pod holding
 * the block, so memory per (block, pod) falls with sharing, and a lookup is one HMGET per tier
 * for all candidates. A pod's writes touch its own keys, the tier hashes and the slot keys:
 * standalone Redis only (as lookups already needed).
 */

import { ENGINE_BUCKETS } from '@kvr/contracts';

/**
 * Blocks a pod's clear handles in one script call. A clear unsets the pod's bit block by block
 * (≈ 3.3 µs each in Redis 7.0 here): a 100k-block pod cleared in one call held Redis for 330 ms,
 * every lookup of the fleet waiting. In calls of ≈ 2,000 blocks, lookups wait ≈ 7 ms at most, and
 * meanwhile see the pod half-cleared: fewer blocks, never a block it does not hold.
 */
export const CLEAR_BUDGET_BLOCKS = 2_000;

/** Lua shared by every script that touches one pod (`prefix` and `pod` are the script's locals). */
const POD_READERS = `
local podTag = '{' .. pod .. '}'
local specKey = prefix .. ':spec:' .. podTag
local function holdKey(tier) return prefix .. ':hold:' .. tier end
local function multiKey(tier) return prefix .. ':multi:' .. podTag .. ':' .. tier end
local function bucketKey(tier, b) return prefix .. ':eng:' .. podTag .. ':' .. tier .. ':' .. b end
-- The last byte of E: ENGINE_BUCKETS is 256 for that reason (engineBucketOf in TypeScript).
local function engKey(tier, e) return bucketKey(tier, string.byte(e, 8)) end
local function engineTiers()
  local tiers = { 'gpu', 'cpu' }
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 't:' then tiers[#tiers + 1] = string.sub(field, 3) end
  end
  return tiers
end
local function parse(v)
  local extra = #v % 8
  if extra == 0 then return 1, v end
  return tonumber(string.sub(v, #v - extra + 1)), string.sub(v, 1, #v - extra)
end
local function encode(copies, rs)
  if copies == 1 then return rs end
  return rs .. copies
end
`;

/** Bitmap helpers: `hasBit(map, slot)`, `withBit(map, slot)` → map, added; `withoutBit` → map, removed. */
const BITMAPS = `
local function hasBit(map, slot)
  local b = string.byte(map, math.floor(slot / 8) + 1)
  return b ~= nil and math.floor(b / 2 ^ (slot % 8)) % 2 == 1
end
local function withBit(map, slot)
  local i, m = math.floor(slot / 8) + 1, 2 ^ (slot % 8)
  if #map < i then return map .. string.rep('\\0', i - 1 - #map) .. string.char(m), true end
  local b = string.byte(map, i)
  if math.floor(b / m) % 2 == 1 then return map, false end
  return string.sub(map, 1, i - 1) .. string.char(b + m) .. string.sub(map, i + 1), true
end
local function withoutBit(map, slot)
  local i, m = math.floor(slot / 8) + 1, 2 ^ (slot % 8)
  local b = string.byte(map, i)
  if b == nil or math.floor(b / m) % 2 == 0 then return map, false end
  local out = string.sub(map, 1, i - 1) .. string.char(b - m) .. string.sub(map, i + 1)
  local n = #out
  while n > 0 and string.byte(out, n) == 0 do n = n - 1 end
  return string.sub(out, 1, n), true
end
`;

/**
 * Writers' helpers (after POD_READERS and BITMAPS; `evicted` is a local of the script):
 *   mySlot(create)           the pod's slot, allocated (lowest free first) when `create`
 *   releaseSlot()            frees it (the pod's bits must be gone)
 *   noteTier(tier)           records a tier besides gpu and cpu (field `t:<tier>` of the pod hash)
 *   unsetBit(key, r, slot)   clears one bit of r's bitmap in a tier hash: true when it was set
 *   addHolder(r, tier)       the pod gains a block with request key r: true when r is new to it
 *   dropHolder(r, tier)      the pod loses one: true when that was its last block with r
 *   clear(bounded)           removes the pod's blocks, counting lost entries in `evicted`: all of
 *                            them (true), or, when `bounded` and past CLEAR_BUDGET_BLOCKS, some
 *                            (false: the script answers 'partial', has written nothing else, and
 *                            is called again). Bounded only before any other write of the call.
 */
const POD_WRITERS = POD_READERS + BITMAPS + `
local slotCache = nil
local function mySlot(create)
  if slotCache then return slotCache end
  local s = redis.call('HGET', prefix .. ':slot', pod)
  if s then
    slotCache = tonumber(s)
    return slotCache
  end
  if not create then return nil end
  local free = redis.call('ZPOPMIN', prefix .. ':freeslots')
  if free[1] then s = tonumber(free[1]) else s = redis.call('INCR', prefix .. ':nextslot') - 1 end
  redis.call('HSET', prefix .. ':slot', pod, s)
  redis.call('HSET', prefix .. ':slotpod', s, pod)
  slotCache = s
  return s
end
local function releaseSlot()
  local s = mySlot(false)
  if not s then return end
  redis.call('HDEL', prefix .. ':slot', pod)
  redis.call('HDEL', prefix .. ':slotpod', s)
  redis.call('ZADD', prefix .. ':freeslots', s, s)
  slotCache = nil
end
local notedTiers = {}
local function noteTier(tier)
  if tier == 'gpu' or tier == 'cpu' or notedTiers[tier] then return end
  notedTiers[tier] = true
  redis.call('HSET', KEYS[1], 't:' .. tier, '1')
end
-- Whether the pod has further blocks with one request key on a tier (checked once per call).
local multiSeen = {}
local function hasMulti(tier)
  if multiSeen[tier] == nil then multiSeen[tier] = redis.call('EXISTS', multiKey(tier)) == 1 end
  return multiSeen[tier]
end
-- Unsets the slot's bit in r's bitmap of a tier hash (the field goes with its last bit): true when it was set.
local function unsetBit(key, r, slot)
  local map = redis.call('HGET', key, r)
  if not map then return false end
  local rest, removed = withoutBit(map, slot)
  if not removed then return false end
  if rest == '' then redis.call('HDEL', key, r) else redis.call('HSET', key, r, rest) end
  return true
end
local function addHolder(r, tier)
  local key = holdKey(tier)
  local map, added = withBit(redis.call('HGET', key, r) or '', mySlot(true))
  if added then
    redis.call('HSET', key, r, map)
    return true
  end
  redis.call('HINCRBY', multiKey(tier), r, 1)
  multiSeen[tier] = true
  return false
end
local function dropHolder(r, tier)
  if hasMulti(tier) then
    local more = redis.call('HGET', multiKey(tier), r)
    if more then
      if tonumber(more) <= 1 then redis.call('HDEL', multiKey(tier), r) else redis.call('HINCRBY', multiKey(tier), r, -1) end
      return false
    end
  end
  local slot = mySlot(false)
  return slot ~= nil and unsetBit(holdKey(tier), r, slot)
end
local function clear(bounded)
  local slot = mySlot(false)
  local budget = bounded and ${CLEAR_BUDGET_BLOCKS} or math.huge
  for _, tier in ipairs(engineTiers()) do
    local key = holdKey(tier)
    for b = 0, ${ENGINE_BUCKETS - 1} do
      local bucket = bucketKey(tier, b)
      local entries = slot and redis.call('HGETALL', bucket) or {}
      for k = 2, #entries, 2 do
        local _, rs = parse(entries[k])
        for j = 1, #rs, 8 do
          if unsetBit(key, string.sub(rs, j, j + 7), slot) then evicted = evicted + 1 end
        end
      end
      redis.call('DEL', bucket)
      budget = budget - #entries / 2
      -- Deleted buckets are done: the next call goes on with the rest.
      if budget <= 0 then return false end
    end
    redis.call('DEL', multiKey(tier))
    -- The pod's held hash of the layout before the holder bitmaps, should one be left.
    redis.call('DEL', prefix .. ':held:' .. podTag .. ':' .. tier)
  end
  -- The engine map of the layout before buckets (one hash per pod), should one be left.
  redis.call('DEL', prefix .. ':eng:' .. podTag)
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 't:' then redis.call('HDEL', KEYS[1], field) end
  end
  notedTiers = {}
  multiSeen = {}
  return true
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
 *       'c' | 's' tier E n R1..Rn | 'r' tier E
 * Returns {status, admitted, evicted, unknownEvictions} with status 'ok' | 'fenced' | 'retry' |
 * 'partial' (a large pod's clear went on past its budget: part of it is done, nothing else
 * written, position unchanged; the same call again goes on).
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
` + POD_WRITERS + `local i = 10
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'c' then
    -- Only a clear that comes first may stop halfway: called again, nothing is written twice.
    if not clear(i == 10) then return {'partial', admitted, evicted, unknown} end
    i = i + 1
  elseif op == 's' then
    local tier, e, n = ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
    local bucket = engKey(tier, e)
    local v = redis.call('HGET', bucket, e)
    if v then
      local copies, rs = parse(v)
      redis.call('HSET', bucket, e, encode(copies + 1, rs))
    else
      local rs = {}
      for k = 1, n do rs[k] = ARGV[i + 3 + k] end
      noteTier(tier)
      redis.call('HSET', bucket, e, table.concat(rs))
      for k = 1, n do
        if addHolder(rs[k], tier) then admitted = admitted + 1 end
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
      local copies, rs = parse(v)
      if copies > 1 then
        redis.call('HSET', bucket, e, encode(copies - 1, rs))
      else
        redis.call('HDEL', bucket, e)
        for j = 1, #rs, 8 do
          if dropHolder(string.sub(rs, j, j + 7), tier) then evicted = evicted + 1 end
        end
      end
    end
    i = i + 3
  end
end
if forget == '1' then
  -- The 'c' op cleared the pod already (a removal always clears): this only finds it empty.
  clear(false)
  releaseSlot()
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
 * Longest consecutive prefix per candidate pod, in one call: one HMGET of every key per weighted
 * tier (tiers without a weight are not seen by lookups) answers for all candidates at once; then,
 * per pod, only past its first real miss, one ZMSCORE for speculative entries of the remaining keys.
 * ARGV: prefix, now (ms), keys (one string of 8 bytes per key), pod count, pods…, tier count,
 *       (tier, weight×1e6)…
 * Returns per pod: matched blocks, weighted score ×1e6 (integer), speculative blocks.
 */
export const LOOKUP_SCRIPT = `
local prefix, now, blob = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local nk = #blob / 8
local np = tonumber(ARGV[4])
local wbase = 5 + np
local nw = tonumber(ARGV[wbase])
local keys, pods = {}, {}
for k = 1, nk do keys[k] = string.sub(blob, 8 * k - 7, 8 * k) end
for p = 1, np do pods[p] = ARGV[4 + p] end
local slots = redis.call('HMGET', prefix .. ':slot', unpack(pods))
local anySlot = false
for p = 1, np do anySlot = anySlot or slots[p] ~= false end
local maps, weights = {}, {}
for w = 1, nw do
  weights[w] = tonumber(ARGV[wbase + 2 * w])
  maps[w] = anySlot and redis.call('HMGET', prefix .. ':hold:' .. ARGV[wbase + 2 * w - 1], unpack(keys)) or {}
end
local out = {}
for p = 1, np do
  local slot = slots[p] and tonumber(slots[p])
  local at, unit = 0, 0
  if slot then at, unit = math.floor(slot / 8) + 1, 2 ^ (slot % 8) end
  local specKey = prefix .. ':spec:{' .. pods[p] .. '}'
  local matched, score, specs = 0, 0, 0
  local expiries = nil
  for k = 1, nk do
    local best = 0
    if slot then
      for w = 1, nw do
        local map = maps[w][k]
        if map and weights[w] > best then
          local b = string.byte(map, at)
          if b and math.floor(b / unit) % 2 == 1 then best = weights[w] end
        end
      end
    end
    if best > 0 then
      matched, score = matched + 1, score + best
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
 * ARGV: prefix, pod, expiry (ms), ttl (ms), tier count, tiers…, keys (one string of 8 bytes per key)
 */
export const SPECULATE_SCRIPT = `
local prefix, pod, expiry, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local nt = tonumber(ARGV[5])
local blob = ARGV[6 + nt]
` + POD_READERS + BITMAPS + `
redis.call('ZREMRANGEBYSCORE', specKey, '-inf', expiry - ttl)
local slot = redis.call('HGET', prefix .. ':slot', pod)
slot = slot and tonumber(slot)
for j = 1, #blob, 8 do
  local r = string.sub(blob, j, j + 7)
  local held = false
  for t = 1, (slot and nt or 0) do
    local map = redis.call('HGET', holdKey(ARGV[5 + t]), r)
    if map and hasBit(map, slot) then
      held = true
      break
    end
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
 *       epoch, seq ('' = null), model ('' = none), then blocks: tier E copies n R1..Rn
 * Returns 'ok', 'fenced', or 'partial' (the clear went past its budget: call again, as APPLY).
 */
export const RESTORE_SCRIPT = `
local prefix, pod, fence = ARGV[1], ARGV[2], ARGV[3]
local clearFirst, finish = ARGV[4], ARGV[5]
local epoch, seq, model = ARGV[6], ARGV[7], ARGV[8]
local storedFence = redis.call('HGET', KEYS[1], 'fence')
if fence ~= '' and storedFence and tonumber(fence) < tonumber(storedFence) then return 'fenced' end
local evicted = 0
` + POD_WRITERS + `
if clearFirst == '1' then
  if not clear(true) then return 'partial' end
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], pod)
end
local i = 9
while i <= #ARGV do
  local tier, e, copies, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local rs = {}
  for k = 1, n do
    rs[k] = ARGV[i + 3 + k]
    addHolder(rs[k], tier)
  end
  if n > 0 then redis.call('ZREM', specKey, unpack(rs)) end
  noteTier(tier)
  redis.call('HSET', engKey(tier, e), e, encode(copies, table.concat(rs)))
  i = i + 4 + n
end
if finish == 'position' then
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', seq)
  if model ~= '' then redis.call('HSET', KEYS[1], 'model', model) end
  if fence ~= '' then redis.call('HSET', KEYS[1], 'fence', fence) end
  redis.call('SADD', KEYS[2], pod)
elseif finish == 'forget' then
  releaseSlot()
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], pod)
end
return 'ok'
`;

/**
 * A pod's whole state at one moment (a script, so no apply lands in between): nil when the pod
 * has no position, else epoch, seq, model ('' = none), then tier, E, value per engine block.
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
    local entries = redis.call('HGETALL', bucketKey(tier, b))
    for k = 1, #entries, 2 do
      out[#out + 1] = tier
      out[#out + 1] = entries[k]
      out[#out + 1] = entries[k + 1]
    end
  end
end
return out
`;

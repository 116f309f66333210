/**
 * Lua scripts of the Redis block index (Redis ≥ 6.2; checked on Debian's 7.0). Layout, with
 * `P` the key prefix (see libs/contracts redis-keys.ts):
 *
 *   P:blk:<R>          HASH  `<pod>|<tier>` → live engine blocks of the pod with request key R
 *   P:spec:<R>         ZSET  `<pod>` → expiry (ms) of a speculative entry (Redis 7.0 has no HEXPIRE)
 *   P:eng:{<pod>}      HASH  `<tier>|<E>` → `<copies>|<R1>,<R2>…` the pod's engine keys
 *   P:pod:{<pod>}      HASH  epoch, seq ('' after a reset), fence, model (of the last batch)
 *   P:pods             SET   pods with a position
 *
 * The scripts touch keys they compute from their arguments (P:blk:*), so they need a standalone
 * Redis (or a cluster where everything sits in one slot); Redis Cluster is not supported yet.
 */

/**
 * Lua shared by the scripts that write one pod (KEYS[2] is the pod's engine hash; `prefix`, `pod`
 * and the `evicted` counter are locals of the including script):
 *   blk(r), spec(r)          key names
 *   parse(v)                 `<copies>|<R1>,<R2>` → copies, 'R1,R2'
 *   holders(r, field, d)     adds d to a block entry, deleting it (and an empty hash) at 0
 *   clear()                  removes every block of the pod, counting lost entries in `evicted`
 */
const POD_HELPERS = `
local function blk(r) return prefix .. ':blk:' .. r end
local function spec(r) return prefix .. ':spec:' .. r end
local function parse(v)
  local bar = string.find(v, '|', 1, true)
  return tonumber(string.sub(v, 1, bar - 1)), string.sub(v, bar + 1)
end
local function holders(r, field, delta)
  local n = redis.call('HINCRBY', blk(r), field, delta)
  if n <= 0 then
    redis.call('HDEL', blk(r), field)
    if redis.call('HLEN', blk(r)) == 0 then redis.call('DEL', blk(r)) end
  end
  return n
end
local function clear()
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local bar = string.find(all[i], '|', 1, true)
    local tier = string.sub(all[i], 1, bar - 1)
    local _, list = parse(all[i + 1])
    for r in string.gmatch(list, '[^,]+') do
      local key = blk(r)
      if redis.call('HDEL', key, pod .. '|' .. tier) == 1 then evicted = evicted + 1 end
      if redis.call('HLEN', key) == 0 then redis.call('DEL', key) end
    end
  end
  redis.call('DEL', KEYS[2])
end
`;

/**
 * Applies one planned message atomically, if the pod's position and fence are what the caller
 * decided on (compare-and-set): the ordering decision is made in TypeScript (`decidePosition`),
 * the write happens here, and a concurrent change makes the script answer `retry`.
 *
 * KEYS: pod hash, engine hash, pods set
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
    local field = tier .. '|' .. e
    local v = redis.call('HGET', KEYS[2], field)
    if v then
      local copies, list = parse(v)
      redis.call('HSET', KEYS[2], field, (copies + 1) .. '|' .. list)
    else
      local rs = {}
      for k = 1, n do rs[k] = ARGV[i + 3 + k] end
      redis.call('HSET', KEYS[2], field, '1|' .. table.concat(rs, ','))
      for k = 1, n do
        if holders(rs[k], pod .. '|' .. tier, 1) == 1 then admitted = admitted + 1 end
        redis.call('ZREM', spec(rs[k]), pod)
      end
    end
    i = i + 4 + n
  else
    local tier, e = ARGV[i + 1], ARGV[i + 2]
    local field = tier .. '|' .. e
    local v = redis.call('HGET', KEYS[2], field)
    if not v then
      unknown = unknown + 1
    else
      local copies, list = parse(v)
      if copies > 1 then
        redis.call('HSET', KEYS[2], field, (copies - 1) .. '|' .. list)
      else
        redis.call('HDEL', KEYS[2], field)
        for r in string.gmatch(list, '[^,]+') do
          if holders(r, pod .. '|' .. tier, -1) <= 0 then evicted = evicted + 1 end
        end
      end
    end
    i = i + 3
  end
end
if forget == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], pod)
else
  redis.call('HSET', KEYS[1], 'epoch', newEpoch, 'seq', newSeq)
  if fence ~= '' then redis.call('HSET', KEYS[1], 'fence', fence) end
  if model ~= '' then redis.call('HSET', KEYS[1], 'model', model) end
  redis.call('SADD', KEYS[3], pod)
end
return {'ok', admitted, evicted, unknown}
`;

/**
 * Longest consecutive prefix per candidate pod, in one call. For each key one HMGET of exactly the
 * fields that matter (every candidate × every weighted tier), no parsing: tiers without a weight
 * (none are emitted by vLLM today besides GPU and CPU) are not seen by lookups.
 * ARGV: prefix, now (ms), key count, keys…, pod count, pods…, tier count, (tier, weight×1e6)…
 * Returns per pod: matched blocks, weighted score ×1e6 (integer), speculative blocks.
 */
export const LOOKUP_SCRIPT = `
local prefix, now = ARGV[1], tonumber(ARGV[2])
local nk = tonumber(ARGV[3])
local np = tonumber(ARGV[4 + nk])
local wbase = 5 + nk + np
local nw = tonumber(ARGV[wbase])
local tiers, weights = {}, {}
for w = 1, nw do
  tiers[w] = ARGV[wbase + 2 * w - 1]
  weights[w] = tonumber(ARGV[wbase + 2 * w])
end
local pods, matched, score, specs = {}, {}, {}, {}
-- Pods still matching, in candidate order; the HMGET asks only for their fields, so a lookup
-- costs less once most candidates have dropped out (typically after the shared prefix).
local active = {}
for p = 1, np do
  pods[p] = ARGV[4 + nk + p]
  matched[p], score[p], specs[p] = 0, 0, 0
  active[p] = p
end
local fields = {}
local function buildFields()
  fields = {}
  for a = 1, #active do
    for w = 1, nw do fields[(a - 1) * nw + w] = pods[active[a]] .. '|' .. tiers[w] end
  end
end
buildFields()
for k = 1, nk do
  if #active == 0 then break end
  local r = ARGV[3 + k]
  local counts = redis.call('HMGET', prefix .. ':blk:' .. r, unpack(fields))
  local still = {}
  for a = 1, #active do
    local p = active[a]
    local best = 0
    for w = 1, nw do
      local c = counts[(a - 1) * nw + w]
      if c and tonumber(c) > 0 and weights[w] > best then best = weights[w] end
    end
    if best > 0 then
      matched[p], score[p] = matched[p] + 1, score[p] + best
      still[#still + 1] = p
    else
      local exp = redis.call('ZSCORE', prefix .. ':spec:' .. r, pods[p])
      if exp and tonumber(exp) > now then
        matched[p], score[p], specs[p] = matched[p] + 1, score[p] + 1000000, specs[p] + 1
        still[#still + 1] = p
      end
    end
  end
  if #still ~= #active then
    active = still
    buildFields()
  end
end
local out = {}
for p = 1, np do
  out[#out + 1] = matched[p]
  out[#out + 1] = score[p]
  out[#out + 1] = specs[p]
end
return out
`;

/**
 * Speculative entries for one pod: skipped for keys the pod already holds for real.
 * ARGV: prefix, pod, expiry (ms), ttl (ms), keys…
 */
export const SPECULATE_SCRIPT = `
local prefix, pod, expiry, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local mark = pod .. '|'
for k = 5, #ARGV do
  local held = false
  for _, field in ipairs(redis.call('HKEYS', prefix .. ':blk:' .. ARGV[k])) do
    if string.sub(field, 1, string.len(mark)) == mark then held = true break end
  end
  if not held then
    local key = prefix .. ':spec:' .. ARGV[k]
    redis.call('ZADD', key, 'GT', expiry, pod)
    redis.call('ZADD', key, 'NX', expiry, pod)
    redis.call('PEXPIRE', key, ttl, 'GT')
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
  end
end
return 1
`;

/**
 * Writes a pod's state from a snapshot, or forgets the pod, fenced like APPLY. A large pod is
 * written in several calls: the first clears (`clearFirst` 1), the last sets the position
 * (`finish` 'position') or deletes it ('forget'); calls in between only add blocks.
 *
 * KEYS: pod hash, engine hash, pods set
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
  redis.call('SREM', KEYS[3], pod)
end
local i = 9
while i <= #ARGV do
  local tier, e, copies, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local rs = {}
  for k = 1, n do
    rs[k] = ARGV[i + 3 + k]
    holders(rs[k], pod .. '|' .. tier, 1)
    redis.call('ZREM', spec(rs[k]), pod)
  end
  redis.call('HSET', KEYS[2], tier .. '|' .. e, copies .. '|' .. table.concat(rs, ','))
  i = i + 4 + n
end
if finish == 'position' then
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', seq)
  if model ~= '' then redis.call('HSET', KEYS[1], 'model', model) end
  if fence ~= '' then redis.call('HSET', KEYS[1], 'fence', fence) end
  redis.call('SADD', KEYS[3], pod)
elseif finish == 'forget' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], pod)
end
return 'ok'
`;

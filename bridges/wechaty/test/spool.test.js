// The spool keeps what the service has not accepted, across restarts, and its drain honours the service.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { Forwarder, Spool, isRetryable, retryDelayMs } from '../spool.js'

const quiet = { warn () {}, error () {}, info () {} }
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'))
const msg = (i) => ({ id: `m${i}`, roomId: 'R1@chatroom', talkerId: 'c', text: `第${i}条`, timestamp: 1_796_000_000_000 + i, type: 7 })

test('payloads not accepted survive a restart, in order; accepted ones do not', () => {
  const dir = tmp()
  const spool = new Spool(dir)
  const seqs = [1, 2, 3, 4].map(i => spool.add(msg(i)))
  spool.accepted(seqs.slice(0, 2))
  spool.close()
  const again = new Spool(dir)
  assert.deepEqual(again.pending(10).map(i => i.payload.id), ['m3', 'm4'])
  assert.equal(again.length, 2)
  const next = again.add(msg(5)) // numbering goes on after the restart
  assert.ok(next > seqs[3])
  again.close()
})

test('a line torn by a crash mid-write is skipped; the rest is kept', () => {
  const dir = tmp()
  const spool = new Spool(dir)
  spool.add(msg(1))
  spool.close()
  fs.appendFileSync(path.join(dir, 'spool.jsonl'), '{"k":"in","seq":2,"p":{"id":"m2"')
  assert.deepEqual(new Spool(dir).pending(10).map(i => i.payload.id), ['m1'])
})

test('compaction keeps exactly what is still needed, and a restart reads it back', () => {
  const dir = tmp()
  const spool = new Spool(dir, { compactAfter: 10 })
  for (let i = 1; i <= 20; i++) spool.accepted([spool.add(msg(i))])
  spool.add(msg(21))
  spool.saying('say-1')
  spool.said('say-1', { wechatyMessageId: 'w1' })
  const lines = fs.readFileSync(path.join(dir, 'spool.jsonl'), 'utf8').trim().split('\n')
  assert.ok(lines.length < 10, `compacted: ${lines.length} lines`)
  spool.close()
  const again = new Spool(dir)
  assert.deepEqual(again.pending(10).map(i => i.payload.id), ['m21'])
  assert.equal(again.sayState('say-1'), 'done')
  assert.deepEqual(again.sayResult('say-1'), { wechatyMessageId: 'w1' })
})

test('say states: saying, done, acked; done but unacknowledged ones are listed for their acknowledgement', () => {
  const dir = tmp()
  const spool = new Spool(dir)
  spool.saying('a')
  spool.saying('b')
  spool.said('b', { error: 'not_in_room' })
  spool.saying('c')
  spool.said('c', { wechatyMessageId: null })
  spool.acked('c')
  spool.close()
  const again = new Spool(dir)
  assert.deepEqual(['a', 'b', 'c', 'd'].map(id => again.sayState(id)), ['saying', 'done', 'acked', undefined])
  assert.deepEqual(again.unacked(), [{ id: 'b', result: { error: 'not_in_room' } }])
})

test('retry delays: Retry-After when given, else exponential backoff capped at 30 s', () => {
  assert.equal(retryDelayMs(1, 5), 5000)
  assert.equal(retryDelayMs(3, 0), 0)
  for (let attempt = 1; attempt <= 12; attempt++) {
    const base = Math.min(30_000, 500 * 2 ** (attempt - 1))
    const delay = retryDelayMs(attempt)
    assert.ok(delay >= base / 2 && delay <= base, `attempt ${attempt}: ${delay}`)
  }
  assert.deepEqual([0, 401, 403, 408, 429, 500, 503].map(isRetryable), Array(7).fill(true))
  assert.deepEqual([400, 404, 413, 422].map(isRetryable), Array(4).fill(false))
})

test('the drain sends in order, in batches, waits as the service asks on 503 and 429, and sends the rest', async () => {
  const spool = new Spool(tmp())
  for (let i = 1; i <= 5; i++) spool.add(msg(i))
  const answers = [{ status: 503, retryAfterS: 5 }, { status: 429, retryAfterS: 1 }, { status: 0 }]
  const sent = []
  const slept = []
  const stop = new AbortController()
  const forwarder = new Forwarder(spool, async payloads => {
    const answer = answers.shift() ?? { status: 202 }
    if (answer.status === 202) sent.push(...payloads.map(p => p.id))
    if (spool.length === payloads.length && answer.status === 202) setImmediate(() => stop.abort())
    return answer
  }, { batch: 2, log: quiet, sleep: async (ms) => { slept.push(ms) } })
  await forwarder.run(stop.signal)
  assert.deepEqual(sent, ['m1', 'm2', 'm3', 'm4', 'm5'])
  assert.equal(spool.length, 0)
  assert.deepEqual(slept.slice(0, 2), [5000, 1000])
  assert.ok(slept[2] >= 250 && slept[2] <= 2000) // no Retry-After: backoff (third attempt)
})

test('a payload the service refuses (422) is found one by one and dropped; the others go through', async () => {
  const spool = new Spool(tmp())
  for (let i = 1; i <= 3; i++) spool.add(msg(i))
  const sent = []
  const stop = new AbortController()
  const forwarder = new Forwarder(spool, async payloads => {
    if (payloads.some(p => p.id === 'm2')) return { status: 422 }
    sent.push(...payloads.map(p => p.id))
    if (spool.length === payloads.length) setImmediate(() => stop.abort())
    return { status: 202 }
  }, { batch: 10, log: quiet, sleep: async () => {} })
  await forwarder.run(stop.signal)
  assert.deepEqual(sent, ['m1', 'm3'])
  assert.equal(forwarder.refused, 1)
})

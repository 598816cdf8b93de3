// The outbox consumer says each say once, records it around the say, and never says again what it knows it said.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { NotInRoom, OutboxConsumer } from '../outbox.js'
import { Spool } from '../spool.js'

const quiet = { warn () {}, error () {}, info () {} }
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-'))
const entry = (id, roomId = 'R1@chatroom') => ({ id, roomId, text: `text of ${id}`, mentions: [] })

/** A service whose outbox hands out `batches` one poll at a time, then stops the consumer. */
function service (batches, stop, ackStatus = () => 200) {
  const acks = []
  const polls = []
  return {
    acks,
    polls,
    async poll (after) {
      polls.push(after)
      if (batches.length === 0) {
        stop.abort()
        return { entries: [], after }
      }
      return batches.shift()
    },
    async ack (id, result) {
      const status = ackStatus(id)
      if (status === 200) acks.push([id, result])
      return status
    },
  }
}

function consumer (spool, client, said) {
  return new OutboxConsumer({
    spool,
    client,
    log: quiet,
    sleep: async () => {},
    say: async (e) => {
      said.push(e.id)
      if (e.roomId === 'elsewhere') throw new NotInRoom(e.roomId)
      return `wx-${e.id}`
    },
  })
}

test('each say is said once and acknowledged with the message id; a failure is acknowledged with its error', async () => {
  const stop = new AbortController()
  const client = service([{ entries: [entry('a'), entry('b', 'elsewhere')], after: '1-0' }], stop)
  const said = []
  const spool = new Spool(tmp())
  await consumer(spool, client, said).run(stop.signal)
  assert.deepEqual(said, ['a', 'b'])
  assert.deepEqual(client.acks, [['a', { wechatyMessageId: 'wx-a' }], ['b', { error: 'not_in_room' }]])
  assert.deepEqual(client.polls, ['0', '1-0']) // pending first, then on from the cursor the service gave
  assert.equal(spool.sayState('a'), 'acked')
})

test('after a restart, a say recorded as done is only acknowledged, never said again', async () => {
  const dir = tmp()
  const before = new Spool(dir)
  before.saying('a')
  before.said('a', { wechatyMessageId: 'wx-a' }) // said, then the bridge died before the acknowledgement
  before.close()
  const stop = new AbortController()
  const client = service([{ entries: [entry('a')], after: '1-0' }], stop) // the service redelivers it
  const said = []
  await consumer(new Spool(dir), client, said).run(stop.signal)
  assert.deepEqual(said, [])
  // acknowledged once at start-up (the spool's unacknowledged list), and again on the redelivery: harmless
  assert.deepEqual(client.acks.map(([id]) => id), ['a', 'a'])
  assert.deepEqual(client.acks[0][1], { wechatyMessageId: 'wx-a' })
})

test('after a restart, a say recorded as saying only (a crash between saying and recording) is said again, once', async () => {
  const dir = tmp()
  const before = new Spool(dir)
  before.saying('a')
  before.close()
  const stop = new AbortController()
  const client = service([{ entries: [entry('a')], after: '1-0' }, { entries: [entry('a')], after: '1-0' }], stop)
  const said = []
  const spool = new Spool(dir)
  await consumer(spool, client, said).run(stop.signal)
  assert.deepEqual(said, ['a']) // once more, not twice: the second delivery finds it done
  assert.equal(spool.sayState('a'), 'acked')
})

test('an acknowledgement is retried until the service takes it; 404 (a say it no longer knows) ends it too', async () => {
  const stop = new AbortController()
  const tries = { a: 0 }
  const client = service([{ entries: [entry('a'), entry('gone')], after: '2-0' }], stop, (id) => {
    if (id === 'gone') return 404
    tries.a += 1
    return tries.a < 3 ? 503 : 200
  })
  const said = []
  const spool = new Spool(tmp())
  await consumer(spool, client, said).run(stop.signal)
  assert.equal(tries.a, 3)
  assert.deepEqual(said, ['a', 'gone'])
  assert.equal(spool.sayState('gone'), 'acked')
})

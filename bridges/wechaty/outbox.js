// The service's says, taken from its outbox over HTTP (a long poll), said in their rooms, acknowledged.
//
// Delivery is at least once with the say's id as idempotency key: the id is recorded in the spool as
// "saying" before room.say and as "done" right after, so a restart never says again what it knows it
// said (it only resends the acknowledgement). A crash between saying and recording leaves "saying": that
// say is said again, once. The service redelivers what was not acknowledged (its consumer group's
// pending entries), so a crash anywhere else loses nothing either.
import { defaultSleep, retryDelayMs } from './spool.js'

export class NotInRoom extends Error {
  constructor (roomId) {
    super(`the bot is not in room ${roomId}`)
    this.code = 'not_in_room'
  }
}

export class OutboxConsumer {
  /**
   * `client`: { poll(after, waitS) -> { entries, after }, ack(id, result) -> status }.
   * `say(entry)` says `entry.text` in `entry.roomId` and resolves to Wechaty's message id (or null).
   */
  constructor ({ spool, client, say, log = console, waitS = 10, sleep = defaultSleep }) {
    this.spool = spool
    this.client = client
    this.say = say
    this.log = log
    this.waitS = waitS
    this.sleep = sleep
    this.said = 0
    this.failed = 0
  }

  /** Until `signal` aborts: resend the acknowledgements a restart left, then take says as they come. */
  async run (signal) {
    for (const { id, result } of this.spool.unacked()) {
      await this.#ack(id, result, signal)
    }
    let after = '0' // what this consumer took before and did not acknowledge comes first
    let attempt = 0
    while (!signal.aborted) {
      let got
      try {
        got = await this.client.poll(after, this.waitS)
        attempt = 0
      } catch (e) {
        attempt += 1
        this.log.warn(`outbox poll failed (${e.message}); retrying`)
        await this.sleep(retryDelayMs(attempt), signal)
        continue
      }
      for (const entry of got.entries) {
        if (signal.aborted) return
        await this.handle(entry, signal)
      }
      after = got.after
    }
  }

  /** One say: said unless the spool knows it was, then acknowledged. */
  async handle (entry, signal) {
    let result = this.spool.sayResult(entry.id)
    const state = this.spool.sayState(entry.id)
    if (state !== 'done' && state !== 'acked') {
      if (state === 'saying') {
        this.log.warn(`say ${entry.id} was interrupted between saying and recording; saying it again`)
      }
      this.spool.saying(entry.id)
      try {
        result = { wechatyMessageId: (await this.say(entry)) ?? null }
        this.said += 1
      } catch (e) {
        result = { error: e.code === 'not_in_room' ? 'not_in_room' : `say failed: ${e.message}`.slice(0, 500) }
        this.failed += 1
        this.log.error(`say ${entry.id} in ${entry.roomId} failed: ${e.message}`)
      }
      this.spool.said(entry.id, result)
    }
    await this.#ack(entry.id, result, signal)
  }

  async #ack (id, result, signal) {
    for (let attempt = 1; !signal?.aborted; attempt++) {
      let status = 0
      try {
        status = await this.client.ack(id, result)
      } catch (e) {
        this.log.warn(`ack of ${id} failed (${e.message}); retrying`)
      }
      if (status === 200 || status === 404) { // 404: the service no longer knows it; nothing to redo
        this.spool.acked(id)
        return
      }
      await this.sleep(retryDelayMs(attempt), signal)
    }
  }
}

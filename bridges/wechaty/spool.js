// The bridge's durable memory: an append-only JSONL file under its data dir, compacted as it goes.
//
// Inbound, it holds every payload the service has not accepted (202) yet, in arrival order, so that a
// service down for minutes, or the bridge's own restart, loses nothing. Outbound, it holds the state of
// each say the bridge took from the outbox: "saying" (written before room.say), "done" (after it, with
// Wechaty's message id or the error), "acked" (the service took the acknowledgement). A restart never
// says again what is recorded as done; only a say recorded as "saying" without "done" (a crash between
// saying and recording) is said again, once.
//
// Every record is one line written with one write() and fdatasync'ed before the call returns; a line
// torn by a crash mid-write is the last one and is skipped on load.
import fs from 'node:fs'
import path from 'node:path'

const FILE = 'spool.jsonl'
const DONE_KEPT = 10_000 // acknowledged say ids remembered, so a late redelivery is never said again

export class Spool {
  constructor (dir, { compactAfter = 5_000 } = {}) {
    this.dir = dir
    this.file = path.join(dir, FILE)
    this.compactAfter = compactAfter
    this.inbound = new Map() // seq -> payload, in seq order
    this.says = new Map() // say id -> { state, result }
    this.nextSeq = 1
    this.dead = 0 // lines on disk that a compaction would drop
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.#load()
    this.fd = fs.openSync(this.file, 'a', 0o600)
  }

  // --- inbound ---------------------------------------------------------------------------------------

  /** Keep a payload until the service accepts it; returns its sequence number. */
  add (payload) {
    const seq = this.nextSeq++
    this.#write({ k: 'in', seq, p: payload })
    this.inbound.set(seq, payload)
    return seq
  }

  /** The oldest `limit` payloads not yet accepted, as [{ seq, payload }]. */
  pending (limit) {
    const out = []
    for (const [seq, payload] of this.inbound) {
      if (out.length >= limit) break
      out.push({ seq, payload })
    }
    return out
  }

  /** The service accepted these (a 202): forget them. */
  accepted (seqs) {
    const gone = seqs.filter(seq => this.inbound.has(seq))
    if (gone.length === 0) return
    this.#write({ k: 'acc', seqs: gone })
    for (const seq of gone) this.inbound.delete(seq)
    this.dead += 2 * gone.length
    this.#maybeCompact()
  }

  get length () {
    return this.inbound.size
  }

  // --- outbound --------------------------------------------------------------------------------------

  /** undefined (never seen), 'saying', 'done' or 'acked'. */
  sayState (id) {
    return this.says.get(id)?.state
  }

  sayResult (id) {
    return this.says.get(id)?.result
  }

  /** Recorded before room.say: a crash after this and before `said` makes the restart say it again. */
  saying (id) {
    this.#setSay(id, 'saying', undefined)
  }

  /** Recorded as soon as room.say returned (or failed): a restart never says it again. */
  said (id, result) {
    this.#setSay(id, 'done', result)
  }

  /** The service has the acknowledgement. */
  acked (id) {
    this.#setSay(id, 'acked', this.says.get(id)?.result)
    this.dead += 2
    this.#maybeCompact()
  }

  /** Says done but not acknowledged yet (the acknowledgement is resent after a restart). */
  unacked () {
    return [...this.says].filter(([, s]) => s.state === 'done').map(([id, s]) => ({ id, result: s.result }))
  }

  close () {
    fs.closeSync(this.fd)
  }

  // --- internals -------------------------------------------------------------------------------------

  #setSay (id, state, result) {
    this.#write(result === undefined ? { k: state, id } : { k: state, id, r: result })
    this.says.delete(id) // re-inserted last: the oldest acknowledged ids are the first forgotten
    this.says.set(id, { state, result })
  }

  #write (record) {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n')
    fs.fdatasyncSync(this.fd)
  }

  #load () {
    let text
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (e) {
      if (e.code === 'ENOENT') return
      throw e
    }
    for (const line of text.split('\n')) {
      if (!line) continue
      let rec
      try {
        rec = JSON.parse(line)
      } catch {
        continue // the line a crash tore
      }
      this.#apply(rec)
    }
  }

  #apply (rec) {
    switch (rec.k) {
      case 'in':
        this.inbound.set(rec.seq, rec.p)
        this.nextSeq = Math.max(this.nextSeq, rec.seq + 1)
        break
      case 'acc':
        for (const seq of rec.seqs) this.inbound.delete(seq)
        break
      case 'saying':
      case 'done':
      case 'acked':
        this.says.delete(rec.id)
        this.says.set(rec.id, { state: rec.k, result: rec.r })
        break
    }
  }

  #maybeCompact () {
    if (this.dead < this.compactAfter) return
    this.compact()
  }

  /** Rewrite the file with only what is still needed: write a new one, fsync it, rename it over the old. */
  compact () {
    const acked = [...this.says].filter(([, s]) => s.state === 'acked')
    for (const [id] of acked.slice(0, Math.max(0, acked.length - DONE_KEPT))) this.says.delete(id)
    const lines = []
    for (const [seq, p] of this.inbound) lines.push(JSON.stringify({ k: 'in', seq, p }))
    for (const [id, s] of this.says) {
      lines.push(JSON.stringify(s.result === undefined ? { k: s.state, id } : { k: s.state, id, r: s.result }))
    }
    const tmp = this.file + '.tmp'
    const fd = fs.openSync(tmp, 'w', 0o600)
    fs.writeSync(fd, lines.length ? lines.join('\n') + '\n' : '')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.closeSync(this.fd)
    fs.renameSync(tmp, this.file)
    this.fd = fs.openSync(this.file, 'a', 0o600)
    this.dead = 0
  }
}

// --- the spool's drain: batches to the service, retried until accepted ----------------------------------

const MAX_DELAY_MS = 30_000

/** How long to wait before try `attempt` (1, 2, ...): the service's Retry-After when it gave one,
 * else exponential backoff from 500 ms up to 30 s, with jitter so that restarts do not beat in step. */
export function retryDelayMs (attempt, retryAfterS) {
  if (Number.isFinite(retryAfterS) && retryAfterS >= 0) return Math.min(retryAfterS * 1000, 10 * MAX_DELAY_MS)
  const base = Math.min(MAX_DELAY_MS, 500 * 2 ** Math.max(0, attempt - 1))
  return base / 2 + Math.random() * base / 2
}

/** Statuses worth retrying: the service is down, behind (503), rate-limiting (429) or misconfigured (401,
 * 403, 5xx: fixed by a person, meanwhile kept). Any other 4xx refuses the payload itself. */
export function isRetryable (status) {
  return status === 0 || status === 408 || status === 429 || status === 401 || status === 403 || status >= 500
}

export class Forwarder {
  /** `post(payloads)` resolves to { status, retryAfterS } (status 0: no answer). */
  constructor (spool, post, { batch = 100, log = console, sleep = defaultSleep } = {}) {
    this.spool = spool
    this.post = post
    this.batch = batch
    this.log = log
    this.sleep = sleep
    this.refused = 0
    this.#wakeUp = () => {}
  }

  #wakeUp

  /** Something new is in the spool. */
  wake () {
    this.#wakeUp()
  }

  /** Until `signal` aborts: send the oldest pending payloads, in order, one batch at a time. */
  async run (signal) {
    let attempt = 0
    let size = this.batch
    while (!signal.aborted) {
      const items = this.spool.pending(size)
      if (items.length === 0) {
        await new Promise(resolve => {
          const done = () => { signal.removeEventListener('abort', done); resolve() }
          this.#wakeUp = done
          signal.addEventListener('abort', done, { once: true })
        })
        continue
      }
      const { status, retryAfterS } = await this.post(items.map(i => i.payload))
      if (status === 202) {
        this.spool.accepted(items.map(i => i.seq))
        attempt = 0
        size = this.batch
      } else if (isRetryable(status)) {
        attempt += 1
        const delay = retryDelayMs(attempt, retryAfterS)
        this.log.warn(`service answered ${status || 'nothing'}; ${this.spool.length} kept, retry in ${Math.round(delay)} ms`)
        await this.sleep(delay, signal)
      } else if (items.length > 1) {
        size = 1 // one payload of the batch is refused: find which, one by one
      } else {
        this.refused += 1
        this.log.error(`service refused message ${items[0].payload.id} (${status}); dropped from the spool`)
        this.spool.accepted([items[0].seq])
      }
    }
  }
}

export function defaultSleep (ms, signal) {
  return new Promise(resolve => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

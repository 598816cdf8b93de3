// Sales Assistant's front door to WeChat: a Wechaty bot that forwards every room message and room event
// to the service (POST /api/messages, in batches, through a durable spool) and says in rooms what the
// service's outbox asks (long poll, acknowledged with Wechaty's message id).
//
// The puppet is Wechaty's usual choice from the environment (WECHATY_PUPPET, WECHATY_PUPPET_SERVICE_TOKEN,
// ...). Settings: SA_URL (the service), SA_INGEST_TOKEN, SA_BRIDGE_DIR (the spool; default
// $SA_DATA_DIR/wechaty-bridge or ./.data), SA_BRIDGE_BATCH, SA_BRIDGE_WAIT_S, SA_BRIDGE_REPORT_S.
// SA_BRIDGE_MOCK_SCRIPT names a module that drives wechaty-puppet-mock (tests and demos); it is loaded
// only when WECHATY_PUPPET is wechaty-puppet-mock.
import { once } from 'node:events'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

import QRCode from 'qrcode'
import { WechatyBuilder } from 'wechaty'

import { NotInRoom, OutboxConsumer } from './outbox.js'
import { Forwarder, Spool } from './spool.js'

const GROUP_NOTE = 10 // Wechaty's MessageType.GroupNote: the room's own notices (joins, leaves, topic)
const HTTP_TIMEOUT_MS = 30_000

export function settingsFrom (env) {
  const token = env.SA_INGEST_TOKEN
  if (!token) throw new Error('SA_INGEST_TOKEN is not set: the bridge posts to the service with the ingest token')
  return {
    url: (env.SA_URL || 'http://127.0.0.1:8000').replace(/\/+$/, ''),
    token,
    dir: env.SA_BRIDGE_DIR || (env.SA_DATA_DIR ? path.join(env.SA_DATA_DIR, 'wechaty-bridge') : '.data'),
    batch: positive(env, 'SA_BRIDGE_BATCH', 100),
    waitS: positive(env, 'SA_BRIDGE_WAIT_S', 10),
    reportS: positive(env, 'SA_BRIDGE_REPORT_S', 15),
    puppet: (env.WECHATY_PUPPET || '').toLowerCase(),
    mockScript: env.SA_BRIDGE_MOCK_SCRIPT,
  }
}

function positive (env, name, fallback) {
  if (env[name] === undefined || env[name] === '') return fallback
  const value = Number(env[name])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${env[name]}`)
  return value
}

/** The service's HTTP API as the bridge uses it; the ingest token on every call, never logged. */
export class ServiceClient {
  constructor (url, token) {
    this.url = url
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  }

  /** { status, retryAfterS }; status 0 when the service did not answer. */
  async postMessages (payloads) {
    try {
      const res = await this.#fetch('/api/messages', { method: 'POST', body: JSON.stringify(payloads) })
      await res.text()
      const retryAfter = res.headers.get('retry-after')
      return { status: res.status, retryAfterS: retryAfter === null ? undefined : Number(retryAfter) }
    } catch {
      return { status: 0 }
    }
  }

  async poll (after, waitS) {
    const query = new URLSearchParams({ after, wait: String(waitS) })
    const res = await this.#fetch(`/api/bridge/outbox?${query}`, {}, (waitS + 15) * 1000)
    if (res.status !== 200) throw new Error(`outbox answered ${res.status}`)
    return res.json()
  }

  async ack (id, result) {
    const res = await this.#fetch(`/api/bridge/outbox/${encodeURIComponent(id)}/ack`,
      { method: 'POST', body: JSON.stringify(result) })
    await res.text()
    return res.status
  }

  async report (state) {
    const res = await this.#fetch('/api/bridge/status', { method: 'POST', body: JSON.stringify(state) })
    await res.text()
    return res.status
  }

  #fetch (route, init, timeoutMs = HTTP_TIMEOUT_MS) {
    return fetch(this.url + route, { ...init, headers: this.headers, signal: AbortSignal.timeout(timeoutMs) })
  }
}

export async function main (env = process.env) {
  const settings = settingsFrom(env)
  const log = console
  const spool = new Spool(settings.dir)
  const service = new ServiceClient(settings.url, settings.token)
  const forwarder = new Forwarder(spool, payloads => service.postMessages(payloads), { batch: settings.batch, log })
  const stop = new AbortController()
  const state = { login: 'starting', user_id: null, user_name: null, errors: 0, puppet: settings.puppet || 'default' }

  const bot = WechatyBuilder.build({ name: path.join(settings.dir, 'wechaty') })
  const countError = (what, e) => {
    state.errors += 1
    log.error(`${what}: ${e?.message ?? e}`)
  }
  // An unhandled 'error' event would end the process: the puppet's errors are logged and counted instead.
  bot.on('error', e => countError('puppet error', e))
  process.on('unhandledRejection', e => countError('unhandled rejection', e))

  const report = () => service.report({ ...state, spool: spool.length }).catch(() => {})
  bot.on('scan', (qrcode, status) => {
    state.login = 'scan'
    log.info(`scan the QR code with WeChat to log in (status ${status}):`)
    QRCode.toString(qrcode, { type: 'terminal', small: true }).then(text => log.info(text), () => log.info(qrcode))
    report()
  })
  bot.on('login', user => {
    Object.assign(state, { login: 'logged_in', user_id: user.id, user_name: user.name() })
    log.info(`logged in as ${user.name()}`)
    report()
  })
  bot.on('logout', () => {
    state.login = 'logged_out'
    log.warn('logged out')
    report()
  })
  bot.on('ready', () => log.info('ready'))

  // Handlers that await topic() finish out of order: each payload takes its place in the spool in the
  // order its event arrived, and its id and time are read at once, before any await.
  const arrivals = []
  let draining = false
  const arrive = (build) => {
    arrivals.push(build.catch(e => countError('event not forwarded', e)))
    if (draining) return
    draining = true
    ;(async () => {
      while (arrivals.length) {
        const payload = await arrivals[0]
        arrivals.shift()
        if (payload) spool.add(payload)
        forwarder.wake()
      }
      draining = false
    })()
  }

  bot.on('message', msg => {
    const room = msg.room()
    if (!room) return // the product watches rooms; one-to-one chats are not its business
    const talker = msg.talker()
    const payload = {
      id: msg.id,
      roomId: room.id,
      talkerId: talker.id,
      talkerName: talker.name() || undefined,
      text: msg.text() ?? '',
      timestamp: msg.date().getTime(),
      type: msg.type(),
      mentionIdList: [...(msg.payload?.mentionIdList ?? [])],
      self: msg.self(),
    }
    arrive(withTopic(room, payload))
  })

  // Room events become the room's notices, written by the bot (self): a new room appears on the
  // dashboard, unassigned, and a new topic is shown; neither starts nor stops a clock.
  const note = (kind, room, date, text, extra = {}) => {
    const self = bot.currentUser
    const payload = {
      id: `${kind}:${room.id}:${date.getTime()}:${extra.ids ?? ''}`.slice(0, 128),
      roomId: room.id,
      talkerId: self?.id ?? 'bot',
      talkerName: self?.name() || undefined,
      text,
      timestamp: date.getTime(),
      type: GROUP_NOTE,
      mentionIdList: [],
      self: true,
    }
    arrive(extra.topic ? Promise.resolve({ ...payload, roomTopic: extra.topic }) : withTopic(room, payload))
  }
  const names = (list) => list.map(c => c.name() || c.id).join('、')
  bot.on('room-join', (room, invitees, inviter, date) =>
    note('join', room, date, `${inviter.name()} 邀请 ${names(invitees)} 加入了群聊`, { ids: invitees.map(c => c.id).join(',') }))
  bot.on('room-leave', (room, leavers, remover, date) =>
    note('leave', room, date, `${names(leavers)} 离开了群聊`, { ids: leavers.map(c => c.id).join(',') }))
  bot.on('room-topic', (room, topic, oldTopic, changer, date) =>
    note('topic', room, date, `${changer.name()} 修改群名为“${topic}”`, { topic, ids: changer.id }))

  const sayInRoom = async ({ roomId, text, mentions }) => {
    if (!bot.isLoggedIn) await once(bot, 'login')
    let members
    try {
      members = await bot.puppet.roomMemberList(roomId)
    } catch {
      throw new NotInRoom(roomId)
    }
    if (!members.includes(bot.currentUser.id)) throw new NotInRoom(roomId)
    const room = await bot.Room.find({ id: roomId })
    if (!room) throw new NotInRoom(roomId)
    const contacts = []
    for (const id of mentions ?? []) {
      const contact = members.includes(id) ? await bot.Contact.find({ id }) : undefined
      if (contact) contacts.push(contact)
    }
    const sent = await room.say(text, ...contacts)
    return sent?.id ?? null
  }
  const outbox = new OutboxConsumer({ spool, client: service, say: sayInRoom, log, waitS: settings.waitS })

  const shutdown = async () => {
    if (stop.signal.aborted) return
    log.info('stopping')
    stop.abort()
    await bot.stop().catch(() => {})
    spool.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  log.info(`bridge for ${settings.url}; spool ${spool.file} holds ${spool.length} message(s) to send`)
  const forwarding = forwarder.run(stop.signal)
  await bot.start()
  if (settings.puppet === 'wechaty-puppet-mock' && settings.mockScript) {
    const harness = await import(pathToFileURL(path.resolve(settings.mockScript)).href)
    await harness.default({ bot, puppet: bot.puppet, log })
  }
  const reporting = setInterval(report, settings.reportS * 1000)
  report()
  await Promise.all([forwarding, outbox.run(stop.signal)])
  clearInterval(reporting)
}

async function withTopic (room, payload) {
  try {
    return { ...payload, roomTopic: await room.topic() }
  } catch {
    return payload // the topic is a nicety; the message goes on without it
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch(e => {
    console.error(e?.message ?? e)
    process.exit(1)
  })
}

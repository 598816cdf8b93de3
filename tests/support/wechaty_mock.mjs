// The chat the end-to-end tests play, on wechaty-puppet-mock inside the real bridge (bridges/wechaty):
// the bridge loads this module (SA_BRIDGE_MOCK_SCRIPT) only when WECHATY_PUPPET is wechaty-puppet-mock.
//
// It builds one room, R1@chatroom "网易严选", with the bot, a customer and a staff member, logs the bot in
// and emits `ready` (the puppet-mock never does by itself). A small HTTP server on 127.0.0.1:SA_MOCK_PORT
// lets the test act in the chat: a contact says something, people join or leave, the topic changes, the
// bot is invited into a new room, the puppet emits an error. Every text a mock room receives is appended
// to SA_MOCK_ROOM_LOG (kept across the bridge's restarts), so the test can count what the room got.
//
// "hold-next-say" stops the whole bridge process (SIGSTOP) the moment the room has received the bot's next
// say, inside room.say: before the bridge could record that it said it, or acknowledge it. The test then
// kills it there, or lets it go on.
import fs from 'node:fs'
import http from 'node:http'

export const SCENARIO = {
  bot: { id: 'wxid_bot', name: '销售助理' },
  customer: { id: 'wxid_customer', name: '王女士' },
  staff: { id: 's1', name: '董森' },
  room: { id: 'R1@chatroom', topic: '网易严选' },
}

export default async function harness ({ puppet, log }) {
  const mocker = puppet.mocker
  const roomLog = process.env.SA_MOCK_ROOM_LOG
  const port = Number(process.env.SA_MOCK_PORT)
  let holdNextSay = false

  const contact = (c) => {
    try {
      return mocker.ContactMock.load(c.id)
    } catch {
      return mocker.createContact({ id: c.id, name: c.name ?? c.id })
    }
  }
  const listen = (room) => {
    room.on('message', (msg) => {
      const p = msg.payload
      fs.appendFileSync(roomLog, JSON.stringify({ room: room.id, talkerId: p.talkerId, text: p.text, id: p.id }) + '\n')
      if (holdNextSay && p.talkerId === SCENARIO.bot.id) {
        holdNextSay = false
        process.kill(process.pid, 'SIGSTOP')
      }
    })
    return room
  }
  const room = (id) => mocker.RoomMock.load(id)

  const bot = contact(SCENARIO.bot)
  const members = [bot, contact(SCENARIO.customer), contact(SCENARIO.staff)]
  listen(mocker.createRoom({ ...SCENARIO.room, memberIdList: members.map(c => c.id) }))
  mocker.scan('https://login.weixin.qq.com/l/mock-scenario', 2)
  mocker.login(bot)
  puppet.emit('ready', { data: 'mock scenario ready' })

  const actions = {
    say: ({ room: id, from, text, mentions = [] }) => contact({ id: from }).say(text, mentions.map(m => contact({ id: m }))).to(room(id)),
    join: ({ room: id, contacts, by }) => room(id).add(...contacts.map(contact)).by(contact({ id: by })),
    leave: ({ room: id, contacts, by }) => room(id).remove(...contacts.map(contact)).by(contact({ id: by })),
    topic: ({ room: id, topic, by }) => room(id).topic(topic).by(contact({ id: by })),
    // Somebody creates a room and invites the bot into it: the bot sees it first by its room-join.
    invite: ({ room: id, topic, contacts, by }) => {
      const created = listen(mocker.createRoom({ id, topic, memberIdList: contacts.map(c => contact(c).id) }))
      created.add(bot).by(contact({ id: by }))
    },
    error: ({ message }) => puppet.emit('error', { data: message }),
    'hold-next-say': () => { holdNextSay = true },
    ping: () => {},
  }

  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', chunk => { body += chunk })
    req.on('end', () => {
      const action = actions[req.url.slice(1)]
      try {
        if (!action) throw new Error(`no action ${req.url}`)
        action(body ? JSON.parse(body) : {})
        res.writeHead(200).end('{}')
      } catch (e) {
        res.writeHead(400).end(JSON.stringify({ error: e.message }))
      }
    })
  })
  server.listen(port, '127.0.0.1')
  await new Promise(resolve => server.once('listening', resolve))
  server.unref()
  log.info(`mock scenario: control on 127.0.0.1:${port}`)
}

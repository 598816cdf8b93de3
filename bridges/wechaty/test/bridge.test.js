// The bridge's settings: what it needs is checked at start, and a bad value names its variable.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { settingsFrom } from '../bridge.js'

test('defaults, and the data dir under SA_DATA_DIR', () => {
  const s = settingsFrom({ SA_INGEST_TOKEN: 't', SA_URL: 'http://svc:8000/', SA_DATA_DIR: '/var/sa' })
  assert.equal(s.url, 'http://svc:8000')
  assert.equal(s.dir, '/var/sa/wechaty-bridge')
  assert.deepEqual([s.batch, s.waitS, s.reportS], [100, 10, 15])
})

test('no ingest token, or a bad number, stops it with the variable named', () => {
  assert.throws(() => settingsFrom({}), /SA_INGEST_TOKEN/)
  assert.throws(() => settingsFrom({ SA_INGEST_TOKEN: 't', SA_BRIDGE_BATCH: 'many' }), /SA_BRIDGE_BATCH/)
  assert.throws(() => settingsFrom({ SA_INGEST_TOKEN: 't', SA_BRIDGE_WAIT_S: '-1' }), /SA_BRIDGE_WAIT_S/)
})

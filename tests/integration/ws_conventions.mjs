#!/usr/bin/env node
// ws_conventions.mjs - two conventions of Baton's WebSocket feed (/api/v1/ws), checked with `ws`
// (a client nobody here wrote):
//
//   node ws_conventions.mjs ping  BASE_URL   {"op":"ping"} is answered {"type":"pong"}, as
//                                            often as asked, and the socket stays usable
//   node ws_conventions.mjs limit BASE_URL N  with N clients open (the server's
//                                            --max-connections), one more is closed with 1013
//                                            and a reason; once one leaves, a new one is let in
//
// Prints one line per check and "N passed, M failed"; exits non-zero on any failure.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { checks } from '../fakes/checks.mjs';

const [scenario, baseArg, nArg] = process.argv.slice(2);
if (!['ping', 'limit'].includes(scenario) || !baseArg) {
  console.error('usage: node ws_conventions.mjs ping|limit BASE_URL [N]');
  process.exit(2);
}
const wsUrl = `ws://${new URL(baseArg).host}/api/v1/ws`;
const { check, finish } = checks({ watchdogMs: 60_000 });

// Opens a socket; resolves once open, with a queue of the messages it is sent.
function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    ws.messages = [];
    ws.waiters = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      const w = ws.waiters.shift();
      if (w) w(msg);
      else ws.messages.push(msg);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const next = (ws) =>
  ws.messages.length ? Promise.resolve(ws.messages.shift()) : new Promise((r) => ws.waiters.push(r));
const closed = (ws) =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

if (scenario === 'ping') {
  const ws = await connect();
  await check('{"op":"ping"} is answered {"type":"pong"}', async () => {
    ws.send(JSON.stringify({ op: 'ping' }));
    assert.deepEqual(await next(ws), { type: 'pong' });
  });
  await check('three pings, three pongs, in order with other answers', async () => {
    for (const m of [{ op: 'ping' }, { op: 'subscribe', topics: ['system'] }, { op: 'ping' }, { op: 'ping' }])
      ws.send(JSON.stringify(m));
    const got = [await next(ws), await next(ws), await next(ws), await next(ws)].map((m) => m.type);
    assert.deepEqual(got, ['pong', 'subscribed', 'pong', 'pong']);
  });
  await check('an unknown op still names ping among the ops', async () => {
    ws.send(JSON.stringify({ op: 'pong' }));
    const m = await next(ws);
    assert.equal(m.type, 'error');
    assert.match(m.data.message, /ping/);
  });
  ws.close();
} else {
  const n = Number(nArg);
  assert.ok(n > 0, 'N is the server\'s --max-connections');
  const open = [];
  for (let i = 0; i < n; i++) open.push(await connect());
  await check(`${n} clients are let in and served`, async () => {
    for (const ws of open) ws.send(JSON.stringify({ op: 'ping' }));
    for (const ws of open) assert.deepEqual(await next(ws), { type: 'pong' });
  });
  await check(`client ${n + 1} is closed with 1013 and a reason`, async () => {
    const extra = new WebSocket(wsUrl);
    const { code, reason } = await closed(extra);
    assert.equal(code, 1013);
    assert.match(reason, /try again later/);
  });
  await check('once one leaves, a new client is let in', async () => {
    const gone = closed(open[0]);
    open[0].close();
    await gone;
    // the server counts the close when it sees it: give it a moment, then try
    let ws;
    for (let i = 0; i < 50 && !ws; i++) {
      const c = await connect();
      c.send(JSON.stringify({ op: 'ping' }));
      const r = await Promise.race([next(c), closed(c)]);
      if (r.type === 'pong') ws = c;
      else await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(ws, 'no client let in after one left');
    open[0] = ws;
  });
  for (const ws of open) ws.close();
}
finish();

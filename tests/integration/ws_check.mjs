#!/usr/bin/env node
// ws_check.mjs - Baton's WebSocket event stream (/api/v1/ws) checked with `ws`, a client nobody
// here wrote, against the journal that GET /api/v1/runs/{id}/events serves: whatever a client is
// streamed must be exactly what was journaled (same seq, type, at, data; in order; no gaps, no
// duplicates), live or replayed, for one client or a thousand, and a client that stops reading
// must be cut off without costing the others a single event.
//
//   node ws_check.mjs SCENARIO BASE_URL [ARGS]
//     stream     an sdlc run streamed live from a snapshot, its approval answered over REST;
//                bad client messages answered with errors on a connection that stays usable
//     reconnect  a Tiny run (server with a slow offline model) streamed with "after", the
//                socket killed after 3 events and a new one resumed from the last seq
//     fanout [N] N sockets (default 1000) replay one run; prints a "fanout {...}" line
//     slow       a client that stops reading is cut off (1008, or 1006 when dropped); a
//                client reading beside it still gets every event
//
// BASE_URL is the server's REST base (http://127.0.0.1:41231); the socket is ws://HOST/api/v1/ws.
// Prints one line per check and "N passed, M failed"; exits non-zero on any failure.

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { checks } from '../fakes/checks.mjs';

const USAGE = 'usage: node ws_check.mjs stream|reconnect|fanout [N]|slow BASE_URL';
const [scenario, baseArg, ...args] = process.argv.slice(2);
if (!scenario || !baseArg) {
  console.error(USAGE);
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const wsUrl = `ws://${new URL(base).host}/api/v1/ws`;

// A hung stream must fail the run rather than hang it; the big scenarios get more time.
const WATCHDOG_MS = { stream: 120_000, reconnect: 60_000, fanout: 240_000, slow: 420_000 };
const { check, finish } = checks({ watchdogMs: WATCHDOG_MS[scenario] ?? 60_000 });

// The workflow of the brief: three tasks in a chain, one line each.
const TINY = {
  name: 'Tiny',
  agents: { w: { instructions: 'Write a line.' } },
  tasks: [
    { id: 'a', agent: 'w' },
    { id: 'b', agent: 'w', depends_on: ['a'] },
    { id: 'c', agent: 'w', depends_on: ['b'] },
  ],
};

// Six tasks whose answers are big: a JSON agent whose schema asks for 30 notes of 80
// characters, which the offline model fills exactly (each task.completed carries the text
// twice, as output and outputs: about 5 KB). Two lanes of three, so events come in bursts.
const NOTE = { type: 'string', minLength: 80, maxLength: 80 };
const BIG = {
  name: 'Big',
  agents: {
    w: {
      instructions: 'Write long notes.',
      output: {
        format: 'json',
        schema: { type: 'object', required: ['notes'], properties: { notes: { type: 'array', minItems: 30, maxItems: 30, items: NOTE } } },
      },
    },
  },
  tasks: [
    { id: 't1', agent: 'w' }, { id: 't2', agent: 'w' }, { id: 't3', agent: 'w' },
    { id: 't4', agent: 'w', depends_on: ['t1'] }, { id: 't5', agent: 'w', depends_on: ['t2'] }, { id: 't6', agent: 'w', depends_on: ['t3'] },
  ],
};

const RUN_STATUSES = ['running', 'waiting_human', 'completed', 'failed', 'cancelled', 'paused'];
const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const RUN_END = new Set(['run.completed', 'run.failed', 'run.cancelled']);
// Messages that are not journal events: the server talking about the subscription, and the
// answer text streamed while a model call is in flight (task.delta, never journaled).
const CONTROL = new Set(['subscribed', 'unsubscribed', 'error', 'task.delta']);

// ---------------------------------------------------------------------------------------------
// Small helpers

const clip = (v, n = 300) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > n ? `${s.slice(0, n)}…` : s;
};

// A later check that needs what an earlier one failed to produce says so instead of throwing
// a TypeError nobody can read.
function need(value, what) {
  if (value === undefined || value === null) throw new Error(`skipped: ${what} failed earlier`);
  return value;
}

// "1-5,7,7,9-12": a list of seqs short enough to read, duplicates and gaps visible.
function ranges(seqs) {
  const out = [];
  for (let i = 0; i < seqs.length; i++) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
    out.push(j > i ? `${seqs[i]}-${seqs[j]}` : `${seqs[i]}`);
    i = j;
  }
  return out.join(',') || '(none)';
}

// ---------------------------------------------------------------------------------------------
// REST

async function api(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, json };
}

// The answer's JSON when the status is the expected one; otherwise an error that quotes the
// server's own {"error":{"code","message"}}.
async function apiOk(method, path, body, want = 200) {
  const { status, json } = await api(method, path, body);
  assert.equal(status, want, `${method} ${path}: ${status} ${clip(json)}`);
  return json;
}

async function startRun(workflow, inputs = {}) {
  const run = await apiOk('POST', '/api/v1/runs', { workflow, inputs }, 201);
  assert.match(String(run.id), /\S/, `POST /api/v1/runs: no id in ${clip(run)}`);
  return run;
}

// The whole journal of a run, every page, checked to be 1..n with no gaps: the truth the
// streams are compared with.
async function journal(runId) {
  const items = [];
  let after = 0;
  for (;;) {
    const page = await apiOk('GET', `/api/v1/runs/${runId}/events?after=${after}&limit=1000`);
    assert.ok(Array.isArray(page.items), `events page without items: ${clip(page)}`);
    items.push(...page.items);
    if (page.next_after === null || page.next_after === undefined) break;
    assert.ok(page.next_after > after, `next_after ${page.next_after} does not move past ${after}`);
    after = page.next_after;
  }
  const seqs = items.map((e) => e.seq);
  assert.ok(seqs.every((s, i) => s === i + 1), `journal of ${runId} is not 1..n: ${ranges(seqs)}`);
  return items;
}

// Polls until every run has finished (REST, not the streams under test).
async function waitRunsFinished(ids, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const left = new Set(ids);
  while (left.size) {
    for (const id of [...left]) {
      const run = await apiOk('GET', `/api/v1/runs/${id}`);
      if (FINISHED.has(run.status)) left.delete(id);
    }
    if (!left.size) break;
    if (Date.now() > deadline) throw new Error(`runs not finished after ${timeoutMs} ms: ${[...left].join(' ')}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket client: records every message in arrival order and lets a check wait for one.

class Client {
  static async connect(name) {
    const c = new Client(name);
    await c.opened;
    return c;
  }

  constructor(name) {
    this.name = name;
    this.msgs = [];           // every message, parsed, in arrival order
    this.bad = [];            // frames that were not JSON text: a protocol error of their own
    this.waiters = new Set();
    this.closeInfo = null;
    this.error = null;
    this.onMessage = null;    // optional per-message hook (pause, terminate, ...)
    // handshakeTimeout: an upgrade that never answers fails the connect instead of hanging.
    this.ws = new WebSocket(wsUrl, { handshakeTimeout: 10_000 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters) w.fail(new Error(`${this.name}: socket closed (${code} ${this.closeInfo.reason}) before ${w.what}`));
        this.waiters.clear();
        resolve(this.closeInfo);
      });
    });
    // Without an 'error' listener a reset connection would kill the whole process.
    this.ws.on('error', (e) => { this.error = e; });
    this.ws.on('message', (data, isBinary) => this.receive(data, isBinary));
  }

  receive(data, isBinary) {
    let m;
    try {
      m = JSON.parse(data.toString());
    } catch {
      m = { type: '(not json)', raw: clip(data.toString(), 120) };
    }
    if (isBinary || m.type === '(not json)') this.bad.push(m);
    this.msgs.push(m);
    if (this.onMessage) this.onMessage(m);
    for (const w of this.waiters) {
      if (w.pred(m)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  }

  send(msg) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  // The first message from index `from` on that satisfies pred (one already here counts).
  waitFor(pred, what, { from = 0, timeoutMs = 10_000 } = {}) {
    for (let i = from; i < this.msgs.length; i++) if (pred(this.msgs[i])) return Promise.resolve(this.msgs[i]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.name}: socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) before ${what}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred, what, resolve };
      w.fail = (e) => { clearTimeout(w.timer); reject(e); };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last message: ${clip(this.msgs.at(-1))}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  // Subscribes and waits for the "subscribed" of each topic; returns them by topic.
  async subscribe(topics, after) {
    const from = this.msgs.length;
    this.send(after ? { op: 'subscribe', topics, after } : { op: 'subscribe', topics });
    const subs = {};
    for (const t of topics) {
      subs[t] = await this.waitFor((m) => m.type === 'subscribed' && m.topic === t, `"subscribed" for ${t}`, { from });
    }
    return subs;
  }

  // The next error message after sending msg, whose code must be `code`; the socket stays open.
  async expectError(msg, code) {
    const from = this.msgs.length;
    this.send(msg);
    const e = await this.waitFor((m) => m.type === 'error', `an error for ${clip(msg, 60)}`, { from });
    assert.equal(e.data?.code, code, `error for ${clip(msg, 60)}: ${clip(e)}`);
    assert.equal(typeof e.data?.message, 'string', `error without a message: ${clip(e)}`);
    assert.ok(e.data.message.length > 0, `error with an empty message: ${clip(e)}`);
    await sleep(50); // a server that closes after an error would do it now
    assert.equal(this.ws.readyState, WebSocket.OPEN, `socket not open after the error (${clip(this.closeInfo)})`);
    return e;
  }

  // The journal events of one run among the messages, in arrival order.
  eventsOf(runId) {
    return this.msgs.filter((m) => !CONTROL.has(m.type) && m.run_id === runId);
  }

  runEnd(runId, opts) {
    return this.waitFor((m) => m.run_id === runId && RUN_END.has(m.type), `the end of run ${runId}`, opts);
  }
}

// got (streamed messages) must be want (journal items): same seqs first, so that a gap or a
// duplicate is named as one, then the same type, at and data for each.
function sameEvents(got, want, label) {
  const gs = got.map((e) => e.seq);
  const ws = want.map((e) => e.seq);
  if (!isDeepStrictEqual(gs, ws)) {
    const seen = new Map();
    for (const s of gs) seen.set(s, (seen.get(s) ?? 0) + 1);
    const dups = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
    const missing = ws.filter((s) => !seen.has(s));
    throw new Error(`${label}: streamed seqs ${ranges(gs)}, journal ${ranges(ws)}` +
      `${missing.length ? `; missing ${ranges(missing)}` : ''}${dups.length ? `; duplicated ${ranges(dups)}` : ''}`);
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    for (const k of ['type', 'at', 'data']) {
      if (!isDeepStrictEqual(g[k], w[k])) {
        throw new Error(`${label}: seq ${w.seq} ${k} differs: streamed ${clip(g[k])}, journal ${clip(w[k])}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// stream: a live run from a snapshot, then bad messages on the same connection

async function scenarioStream() {
  let run, client, sub, end, events;
  const topic = () => `run:${run.id}`;

  await check('stream: POST /api/v1/runs starts an sdlc run (201 with its id)', async () => {
    run = await startRun('sdlc', { project_brief: 'A todo app' });
  });

  await check('stream: subscribe run:<id> answers "subscribed" with the run as its snapshot', async () => {
    need(run, 'starting the run');
    client = await Client.connect('stream');
    sub = (await client.subscribe([topic()]))[topic()];
    assert.ok(Number.isInteger(sub.seq), `subscribed.seq is not an integer: ${clip(sub)}`);
    // POST answered once run.started was journaled, so the snapshot includes at least seq 2.
    assert.ok(sub.seq >= 2, `subscribed.seq ${sub.seq}, but run.created and run.started were journaled before the 201`);
    assert.match(String(sub.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `subscribed.at (RFC 3339): ${clip(sub)}`);
    assert.equal(sub.data?.id, run.id, `snapshot id: ${clip(sub.data)}`);
    assert.equal(sub.data.workflow, run.workflow);
    assert.ok(RUN_STATUSES.includes(sub.data.status), `snapshot status ${sub.data.status}`);
  });

  await check('stream: the architecture approval, answered over REST, lets the run complete on the stream', async () => {
    need(sub, 'subscribing');
    // The offline model reaches the approval in a fraction of a second, often before the
    // subscription: then approval.requested is inside the snapshot (seq <= S), not streamed.
    const inSnapshot = sub.data.tasks?.find((t) => t.id === 'architecture')?.status === 'waiting_human';
    if (!inSnapshot) {
      await client.waitFor((m) => m.type === 'approval.requested' && m.data?.task === 'architecture',
        'approval.requested for architecture', { timeoutMs: 60_000 });
    }
    await apiOk('POST', `/api/v1/approvals/${run.id}.architecture/respond`, { decision: 'approve' });
    end = await client.runEnd(run.id, { timeoutMs: 60_000 });
    assert.equal(end.type, 'run.completed', `the run ended with ${clip(end)}`);
  });

  await check('stream: snapshot seq + streamed events = the journal after it (seq, type, at, data; no gaps, no duplicates)', async () => {
    need(end, 'completing the run');
    events = await journal(run.id);
    sameEvents(client.eventsOf(run.id), events.filter((e) => e.seq > sub.seq), 'run stream');
  });

  await check('stream: every message is a JSON text frame with topic run:<id> (events with run_id too)', async () => {
    need(events, 'reading the journal');
    assert.deepEqual(client.bad, [], 'frames that are not JSON text');
    const off = client.msgs.filter((m) => m.topic !== topic() || (!CONTROL.has(m.type) && m.run_id !== run.id));
    assert.deepEqual(off.map((m) => clip(m, 120)), []);
  });

  await check('stream: task.delta streams each answer before its task.completed (text, candidate, no seq)', async () => {
    need(events, 'reading the journal');
    const msgs = client.msgs;
    // tasks whose model call ran while subscribed (their task.started was streamed too)
    const started = new Set(msgs.filter((m) => m.type === 'task.started').map((m) => m.data?.task));
    const completed = msgs.filter((m) => m.type === 'task.completed' && m.data?.output && started.has(m.data.task));
    assert.ok(completed.length > 3, `${completed.length} completed tasks streamed`);
    for (const done of completed) {
      const at = msgs.indexOf(done);
      const text = msgs.slice(0, at)
        .filter((m) => m.type === 'task.delta' && m.data?.task === done.data.task)
        .map((m) => m.data.text).join('');
      assert.ok(text.endsWith(done.data.output), `task ${done.data.task}: deltas ${clip(text, 80)} vs output ${clip(done.data.output, 80)}`);
    }
    const d = msgs.find((m) => m.type === 'task.delta');
    assert.equal(d.topic, topic());
    assert.equal(d.seq, undefined);
    assert.equal(d.data.candidate, 'offline/offline-1');
    assert.ok(Number.isInteger(d.data.attempt));
  });

  await check('stream: the snapshot includes the journal up to its seq (architecture waiting if requested by then)', async () => {
    need(events, 'reading the journal');
    const requested = events.find((e) => e.type === 'approval.requested' && e.data?.task === 'architecture');
    assert.ok(requested, 'no approval.requested for architecture in the journal');
    // The snapshot includes every event up to its seq (and perhaps a few committed just after:
    // those are streamed too). So an approval requested by then must show in it.
    const waiting = sub.data.tasks?.find((t) => t.id === 'architecture')?.status === 'waiting_human';
    if (requested.seq <= sub.seq) assert.ok(waiting,
      `snapshot at seq ${sub.seq} has architecture ${sub.data.tasks?.find((t) => t.id === 'architecture')?.status}; approval.requested is seq ${requested.seq}`);
  });

  await check('stream: "not json" → error bad_request, connection stays open', async () => {
    await need(client, 'connecting').expectError('not json', 'bad_request');
  });

  await check('stream: {"op":"fly"} → error bad_request', async () => {
    await need(client, 'connecting').expectError({ op: 'fly' }, 'bad_request');
  });

  await check('stream: topics not an array of strings → error bad_request', async () => {
    need(client, 'connecting');
    await client.expectError({ op: 'subscribe', topics: 'run:r-nope' }, 'bad_request');
    await client.expectError({ op: 'subscribe', topics: [42] }, 'bad_request');
  });

  await check('stream: subscribe to run:r-nope → error not_found', async () => {
    await need(client, 'connecting').expectError({ op: 'subscribe', topics: ['run:r-nope'] }, 'not_found');
  });

  await check('stream: unsubscribe run:<id> → "unsubscribed"', async () => {
    need(run, 'starting the run');
    const from = client.msgs.length;
    client.send({ op: 'unsubscribe', topics: [topic()] });
    await client.waitFor((m) => m.type === 'unsubscribed' && m.topic === topic(), '"unsubscribed"', { from });
  });

  await check('stream: after the errors the same socket subscribes with "after" and gets the last 2 events replayed', async () => {
    need(events, 'reading the journal');
    const after = events.length - 2;
    const from = client.msgs.length;
    const s = (await client.subscribe([topic()], { [topic()]: after }))[topic()];
    assert.equal(s.seq, after, `subscribed.seq with after ${after}: ${clip(s)}`);
    assert.equal(s.data, null, `subscribed.data with after: ${clip(s.data)}`);
    await client.runEnd(run.id, { from });
    const replay = client.msgs.slice(from).filter((m) => !CONTROL.has(m.type) && m.run_id === run.id);
    sameEvents(replay, events.slice(after), 'replay');
  });
}

// ---------------------------------------------------------------------------------------------
// reconnect: the socket dies after 3 events; a new one resumes from the last seq it had

async function scenarioReconnect() {
  let run, kept, end, events;
  const topic = () => `run:${run.id}`;

  await check('reconnect: POST /api/v1/runs starts a Tiny run (201)', async () => {
    run = await startRun(TINY);
  });

  await check('reconnect: subscribe with after 0 answers "subscribed" seq 0, data null, then replays from seq 1', async () => {
    need(run, 'starting the run');
    const first = await Client.connect('first');
    // Kill the socket the moment the third event is in: no close handshake, as when a
    // network drops; anything the socket delivers after that is not counted.
    let n = 0;
    first.onMessage = (m) => {
      if (CONTROL.has(m.type) || kept) return;
      if (++n === 3) {
        kept = first.eventsOf(run.id).slice(0, 3);
        first.ws.terminate();
      }
    };
    first.send({ op: 'subscribe', topics: [topic()], after: { [topic()]: 0 } });
    const s = await first.waitFor((m) => m.type === 'subscribed', '"subscribed"');
    assert.equal(s.topic, topic());
    assert.equal(s.seq, 0, `subscribed.seq: ${clip(s)}`);
    assert.equal(s.data, null, `subscribed.data with after: ${clip(s.data)}`);
    await Promise.race([first.closed, sleep(15_000)]);
    need(kept, 'receiving 3 events within 15 s');
    assert.deepEqual(kept.map((e) => e.seq), [1, 2, 3], 'the first 3 events');
  });

  await check('reconnect: the run was still going when the second socket came (the replay joins a live run)', async () => {
    need(kept, 'the first socket');
    const now = await apiOk('GET', `/api/v1/runs/${run.id}`);
    assert.ok(!FINISHED.has(now.status), `run already ${now.status}: is the server's offline model slow (latency_ms ~300)?`);
  });

  let second;
  await check('reconnect: a new socket subscribed with after = last seq gets "subscribed" with that seq and the rest of the run', async () => {
    need(kept, 'the first socket');
    const last = kept.at(-1).seq;
    second = await Client.connect('second');
    const s = (await second.subscribe([topic()], { [topic()]: last }))[topic()];
    assert.equal(s.seq, last, `subscribed.seq: ${clip(s)}`);
    assert.equal(s.data, null, `subscribed.data with after: ${clip(s.data)}`);
    end = await second.runEnd(run.id, { timeoutMs: 30_000 });
    assert.equal(end.type, 'run.completed', `the run ended with ${clip(end)}`);
  });

  await check('reconnect: both streams together = the journal exactly (seq 1..last, no gaps, no duplicates, same events)', async () => {
    need(end, 'the second socket');
    events = await journal(run.id);
    sameEvents([...kept, ...second.eventsOf(run.id)], events, 'first + second stream');
    assert.deepEqual(second.bad, [], 'frames that are not JSON text');
    second.ws.close();
  });
}

// ---------------------------------------------------------------------------------------------
// fanout: N sockets each replay one whole run

async function scenarioFanout() {
  const n = Number(args[0] ?? 1000);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`fanout: N must be a positive integer (got ${args[0]})\n${USAGE}`);
    process.exit(2);
  }
  const BATCH = 100; // connections at once: enough to be quick, few enough not to flood the backlog
  let run, clients, events;
  const topic = () => `run:${run.id}`;

  await check('fanout: POST /api/v1/runs starts a Tiny run (201)', async () => {
    run = await startRun(TINY);
  });

  await check(`fanout: ${n} sockets subscribed with after 0 each get every event 1..last in order, ending with run.completed`, async () => {
    need(run, 'starting the run');
    const t0 = performance.now();
    clients = [];
    const failures = [];
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => (async () => {
        const c = await Client.connect(`client ${i + k}`);
        c.send({ op: 'subscribe', topics: [topic()], after: { [topic()]: 0 } });
        return c;
      })());
      for (const r of await Promise.allSettled(batch)) {
        if (r.status === 'fulfilled') clients.push(r.value);
        else failures.push(r.reason);
      }
    }
    assert.equal(failures.length, 0, `${failures.length} of ${n} connections failed; first: ${failures[0]?.message ?? failures[0]}`);
    const ends = await Promise.allSettled(clients.map((c) => c.runEnd(run.id, { timeoutMs: 120_000 })));
    const elapsed = performance.now() - t0;
    const stuck = ends.filter((r) => r.status === 'rejected');
    assert.equal(stuck.length, 0, `${stuck.length} of ${n} clients did not see the run end; first: ${stuck[0]?.reason?.message}`);

    events = await journal(run.id);
    let wrong = 0;
    let firstWrong;
    for (const c of clients) {
      try {
        const s = c.msgs.find((m) => m.type === 'subscribed');
        assert.ok(s && s.seq === 0 && s.data === null && s.topic === topic(), `${c.name}: subscribed ${clip(s)}`);
        sameEvents(c.eventsOf(run.id), events, c.name);
        assert.deepEqual(c.bad, [], `${c.name}: frames that are not JSON text`);
      } catch (e) {
        wrong++;
        firstWrong ??= e.message;
      }
    }
    assert.equal(wrong, 0, `${wrong} of ${n} clients did not get the journal exactly; first: ${firstWrong}`);
    assert.equal(events.at(-1).type, 'run.completed', `the run ended with ${events.at(-1).type}`);

    const total = clients.reduce((sum, c) => sum + c.msgs.length, 0);
    console.log(`fanout ${JSON.stringify({
      clients: n, events_per_client: events.length, total_messages: total,
      elapsed_ms: Math.round(elapsed), messages_per_s: Math.round(total / (elapsed / 1000)),
    })}`);
  });

  await check('fanout: after closing every socket, GET /api/v1/status connections drops to <= 5 within 5 s', async () => {
    need(clients, 'connecting');
    const deadline = Date.now() + 5_000;
    for (const c of clients) c.ws.close(1000);
    let connections;
    for (;;) {
      ({ connections } = await apiOk('GET', '/api/v1/status'));
      if (connections <= 5) break;
      if (Date.now() > deadline) throw new Error(`connections still ${connections} 5 s after closing ${clients.length} sockets`);
      await sleep(100);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// slow: a client that stops reading is cut off; one reading beside it misses nothing

async function scenarioSlow() {
  const MAX_RUNS = 200;
  const BATCH = 10;
  let normal, slow, ids;
  let paused = false;
  let cutWhilePaused = false;
  let runsWhenCut = null;   // how many runs had been started when the cut showed

  await check('slow: a reading and a non-reading client both subscribe to "*"', async () => {
    normal = await Client.connect('normal');
    await normal.subscribe(['*']);
    slow = new Client('slow');
    await slow.opened;
    // Stop reading from TCP right after "subscribed": the server's writes pile up in its
    // send queue once the kernel's buffers are full.
    slow.onMessage = (m) => {
      if (m.type === 'subscribed' && !paused) {
        paused = true;
        slow.ws._socket.pause();
      }
    };
    // While paused, ws cannot read a close frame; a reset or end of the TCP stream may still show.
    const cut = () => {
      if (paused) cutWhilePaused = true;
      runsWhenCut ??= ids?.length ?? 0;
    };
    slow.ws._socket.once('close', cut);
    slow.ws._socket.once('end', cut);
    slow.closed.then(cut);
    slow.send({ op: 'subscribe', topics: ['*'] });
    await slow.waitFor((m) => m.type === 'subscribed' && m.topic === '*', '"subscribed" for *');
  });

  await check(`slow: runs of a 6-task workflow with big outputs, ${BATCH} at a time, until the slow client is cut or ${MAX_RUNS} ran`, async () => {
    need(slow, 'connecting');
    ids = [];
    while (ids.length < MAX_RUNS && !cutWhilePaused) {
      const batch = await Promise.all(Array.from({ length: BATCH }, () => startRun(BIG)));
      ids.push(...batch.map((r) => r.id));
      await waitRunsFinished(ids.slice(-BATCH));
    }
  });

  await check('slow: the server cut off the client that stopped reading (close 1008, or 1006 when dropped)', async () => {
    need(ids, 'running the workflow');
    if (!slow.closeInfo) {
      // Nothing showed while paused: read what is buffered; a close frame (1008) or the
      // dropped connection (1006) must be at its end.
      paused = false;
      slow.ws._socket.resume();
      await Promise.race([slow.closed, sleep(5_000)]);
    }
    const info = slow.closeInfo;
    const events = slow.msgs.filter((m) => !CONTROL.has(m.type)).length;
    console.log(`slow ${JSON.stringify({ runs: ids.length, runs_when_cut: runsWhenCut, cut_while_paused: cutWhilePaused, close: info, events_read: events })}`);
    assert.ok(info, `the slow client is still open after ${ids.length} runs (${events} events read once resumed)`);
    assert.ok([1008, 1006].includes(info.code), `closed with ${info.code} ${info.reason}`);
    if (info.code === 1008) assert.ok(info.reason.length > 0, 'close 1008 without a reason');
  });

  await check('slow: the reading client got every event of every run it started, exactly as journaled', async () => {
    need(ids, 'running the workflow');
    for (const id of ids) {
      await normal.runEnd(id, { timeoutMs: 10_000 });
      sameEvents(normal.eventsOf(id), await journal(id), `run ${id}`);
    }
    const off = normal.msgs.filter((m) => m.topic !== '*');
    assert.deepEqual(off.map((m) => clip(m, 120)), [], 'messages to a "*" subscriber with another topic');
    assert.deepEqual(normal.bad, [], 'frames that are not JSON text');
  });

  await check('slow: the reading client is still open and answers a subscribe', async () => {
    need(ids?.length ? ids : null, 'running the workflow');
    assert.equal(normal.ws.readyState, WebSocket.OPEN, `normal client closed: ${clip(normal.closeInfo)}`);
    const t = `run:${ids.at(-1)}`;
    const s = (await normal.subscribe([t]))[t];
    assert.equal(s.data?.id, ids.at(-1), `snapshot: ${clip(s.data)}`);
    assert.equal(s.data.status, 'completed');
    normal.ws.close();
  });
}

// ---------------------------------------------------------------------------------------------

const SCENARIOS = { stream: scenarioStream, reconnect: scenarioReconnect, fanout: scenarioFanout, slow: scenarioSlow };
if (!SCENARIOS[scenario]) {
  console.error(`unknown scenario '${scenario}'\n${USAGE}`);
  process.exit(2);
}
await SCENARIOS[scenario]();
finish();

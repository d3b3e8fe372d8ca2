// crash_summary.js SHOW.json EVENTS.json - for the crash and I/O-fault tests (tests/cli/crash_lib.sh):
// checks a run's journal invariants and its artifact files on disk, then prints the run's
// comparable state (one JSON line) for comparison with an uninterrupted reference run.
const fs = require('fs'), crypto = require('crypto'), path = require('path');
const [show, events] = process.argv.slice(2, 4).map(f => JSON.parse(fs.readFileSync(f, 'utf8')));
// the summary names artifacts, not files: they are in DATA_DIR/artifacts/RUN_ID/NAME
const fileOf = a => path.join(process.argv[4], 'artifacts', show.id, a.name);
const problems = [];
const hash = v => crypto.createHash('sha256').update(typeof v === 'string' ? v : JSON.stringify(v ?? null)).digest('hex');

// The journal: seq 1..n, and nothing that may happen once happened twice.
events.forEach((e, i) => { if (e.seq !== i + 1) problems.push(`event #${i + 1} has seq ${e.seq}`); });
const once = {};
const terminal = {};
for (const e of events) {
  const d = e.data || {};
  let key = null;
  if (['run.created', 'run.started', 'run.completed', 'run.failed', 'run.cancelled'].includes(e.type)) key = e.type;
  else if (e.type === 'task.started') key = `task.started ${d.task} attempt ${d.attempt} iteration ${d.iteration}`;
  else if (e.type === 'task.completed') key = `task.completed ${d.task}`;
  else if (e.type === 'task.failed') key = `task.failed ${d.task} attempt ${d.attempt}`;
  else if (e.type === 'task.skipped') key = `task.skipped ${d.task}`;
  else if (e.type === 'artifact.written') key = `artifact.written ${d.name} v${d.version}`;
  else if (e.type === 'approval.requested' || e.type === 'approval.responded') key = `${e.type} ${d.task}`;
  if (key) (once[key] = once[key] || []).push(e.seq);
  const final = e.type === 'task.completed' || e.type === 'task.skipped' || e.type === 'task.cancelled' ||
                (e.type === 'task.failed' && d.retry_at_ms === undefined);
  if (final) (terminal[d.task] = terminal[d.task] || []).push(e.seq);
}
for (const [k, seqs] of Object.entries(once)) if (seqs.length > 1) problems.push(`${k} journaled ${seqs.length} times (seq ${seqs.join(', ')})`);
for (const {id, ...t} of show.tasks)
  if ((terminal[id] || []).length !== 1) problems.push(`task ${id} (${t.status}) has ${(terminal[id] || []).length} terminal events`);
const last = events[events.length - 1];
if (!last || !/^run\.(completed|failed|cancelled)$/.test(last.type)) problems.push(`the journal ends with ${last && last.type}, not the run's end`);

// The artifacts: each file is what the journal says, and nothing else is in the run's folder.
const names = [];
for (const a of show.artifacts) {
  let bytes;
  try { bytes = fs.readFileSync(fileOf(a)); } catch (err) { problems.push(`artifact ${a.name}: ${err.message}`); continue; }
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha !== a.sha256 || bytes.length !== a.bytes) problems.push(`artifact ${a.name}: file has sha256 ${sha} (${bytes.length} bytes), journal says ${a.sha256} (${a.bytes})`);
  names.push(path.basename(fileOf(a)));
}
if (show.artifacts.length) {
  const dir = path.dirname(fileOf(show.artifacts[0]));
  const onDisk = fs.readdirSync(dir).sort().join(' '), journaled = names.sort().join(' ');
  if (onDisk !== journaled) problems.push(`artifact folder holds [${onDisk}], the journal [${journaled}]`);
}
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }

// The comparable state: everything but ids, times and retry jitter.
const tasks = {};
for (const t of show.tasks)
  tasks[t.id] = {status: t.status, attempts: t.attempts_total, error: t.error, outputs: hash(t.outputs)};
const journal = events.filter(e => e.type !== 'run.status').map(e => {
  const d = e.data || {};
  return [e.type, d.task, d.attempt, d.iteration, d.name, d.version, d.sha256, d.reason, d.error,
          d.decision, 'output' in d ? hash([d.output, d.outputs]) : undefined].map(v => v ?? '').join('|');
}).sort();
console.log(JSON.stringify({status: show.status, error: show.error, tasks,
  artifacts: show.artifacts.map(a => `${a.name} v${a.version} ${a.sha256} ${a.bytes} ${a.task_id}`).sort(),
  journal}));

#!/usr/bin/env bash
# Crash test: a 24-task workflow with fan-out/fan-in, retries and artifacts is killed with SIGKILL
# at every journal commit (right after it, and right before it), resumed (the resume itself is
# sometimes killed too), and must end exactly as an uninterrupted run: same run and task
# statuses, attempts and outputs, the same artifacts byte for byte, and a journal with no gap, no
# lost event and no duplicate (no task started or completed twice, no artifact written twice).
# Usage: test_crash.sh BATON ROOT CRASH_SHIM (the LD_PRELOAD library built from crash_shim.c)
source "$(dirname "$0")/lib.sh" "$@"
[ -n "${3:-}" ] || fail "usage: test_crash.sh BATON ROOT CRASH_SHIM"
SHIM=$(realpath "$3")
WF=tests/cli/fixtures/crash_fanout.yaml
CFG=tests/cli/fixtures/crash_config.yaml
# A GCC ASan build wants its runtime first in the library list; the shim is preloaded before it.
CRASH_ENV=(env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")

# quietly CMD... : runs CMD like a foreground command, without bash's "Killed" notice when it is
# killed (that is the point here); returns its exit status
quietly() { "$@" & wait $!; }

# summarize SHOW.json EVENTS.json: checks the journal's own invariants and the artifact files on
# disk, then prints the run's comparable state (one JSON line) for comparison with the reference.
cat > "$WORK/summarize.js" <<'EOF'
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
EOF

# summary DIR ID LABEL : the run's comparable state, in $WORK/LABEL.summary
summary() {
  local D=$1 id=$2 label=$3
  expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
  cp "$WORK/out" "$WORK/show.json"
  expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
  cp "$WORK/out" "$WORK/events.json"
  if ! node "$WORK/summarize.js" "$WORK/show.json" "$WORK/events.json" "$D" > "$WORK/$label.summary" 2> "$WORK/problems"; then
    cat "$WORK/problems" >&2
    echo "--- journal of $id (last 40 events)" >&2
    "$BATON" runs events "$id" --data-dir "$D" | cut -c1-160 | tail -n 40 >&2
    fail "$label: the run's journal or artifacts are inconsistent (above)"
  fi
  ok
}

# compare LABEL : $WORK/LABEL.summary against the reference's, naming what differs
compare() {
  local label=$1 D=$2 id=$3
  if ! cmp -s "$WORK/ref.summary" "$WORK/$label.summary"; then
    node -e '
      const fs = require("fs");
      const [r, g] = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f, "utf8")));
      for (const k of ["status", "error"]) if (r[k] !== g[k]) console.error(`${k}: reference ${r[k]}, got ${g[k]}`);
      for (const id of Object.keys(r.tasks)) if (JSON.stringify(r.tasks[id]) !== JSON.stringify(g.tasks[id]))
        console.error(`task ${id}: reference ${JSON.stringify(r.tasks[id])}, got ${JSON.stringify(g.tasks[id])}`);
      const diff = (a, b) => { const m = {}; a.forEach(x => m[x] = (m[x] || 0) + 1); b.forEach(x => m[x] = (m[x] || 0) - 1);
                               return Object.entries(m).filter(([, n]) => n !== 0); };
      for (const [x, n] of diff(r.artifacts, g.artifacts)) console.error(`artifact ${n > 0 ? "missing" : "extra"}: ${x}`);
      for (const [x, n] of diff(r.journal, g.journal)) console.error(`event ${n > 0 ? "lost" : "extra"} (${Math.abs(n)}x): ${x.slice(0, 200)}`);
    ' "$WORK/ref.summary" "$WORK/$label.summary" >&2 || true
    echo "--- journal of $id (last 40 events)" >&2
    "$BATON" runs events "$id" --data-dir "$D" | cut -c1-160 | tail -n 40 >&2
    fail "$label: the resumed run differs from the uninterrupted one (above)"
  fi
  ok
}

# The reference: one uninterrupted run, counting its commits through the shim.
R="$WORK/ref"
expect_exit 0 "${CRASH_ENV[@]}" BATON_CRASH_COUNT_FILE="$WORK/commits" "$BATON" run "$WF" --config "$CFG" \
  --data-dir "$R" --json
ref_id=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "reference run"
expect_eq "$(json_get "$WORK/out" 'j.tasks.length')" 24 "tasks in the workflow"
expect_eq "$(json_get "$WORK/out" 'j.tasks.filter(t => t.attempts_total > 1).length')" 3 "tasks retried"
summary "$R" "$ref_id" ref
commits=$(cat "$WORK/commits")
[ "$commits" -ge 10 ] || fail "the reference run made only $commits commits"
ok

# resume_until_done DIR ID LABEL [K2 [BEFORE2]] : resumes until the run has ended; the first
# resume is killed at its K2-th commit when K2 is given.
resume_until_done() {
  local D=$1 id=$2 label=$3 k2=${4:-0} before2=${5:-0} n=0 code
  while :; do
    n=$((n + 1))
    [ $n -le 6 ] || fail "$label: still not finished after 6 resumes"
    set +e
    if [ "$n" = 1 ] && [ "$k2" != 0 ]; then
      quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS="$k2" BATON_CRASH_BEFORE="$before2" "$BATON" run \
        --resume "$id" --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
    else
      "$BATON" run --resume "$id" --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
    fi
    code=$?
    set -e
    case $code in
      0) ok; return ;;
      137) ok; resumed_crashes=$((resumed_crashes + 1)) ;;
      *) echo "--- stdout"; tail -n 20 "$WORK/out"; echo "--- stderr"; tail -n 30 "$WORK/err"
         fail "$label: resume #$n exited $code" ;;
    esac
  done
}

# crash_at K BEFORE [K2 [BEFORE2]] : a fresh run killed at its K-th commit (before it when BEFORE
# is 1), resumed (the first resume killed at K2 when given) and compared with the reference.
scenarios=0
killed_midway=0
resumed_crashes=0
crash_at() {
  local k=$1 before=$2 k2=${3:-0} before2=${4:-0}
  local label="k$k$([ "$before" = 1 ] && echo -before)$([ "$k2" != 0 ] && echo "-resume-k$k2")"
  local D="$WORK/$label" code
  set +e
  quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS="$k" BATON_CRASH_BEFORE="$before" "$BATON" run "$WF" \
    --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
  code=$?
  set -e
  # 0: this run made fewer commits than the reference (timing groups events differently)
  [ "$code" = 137 ] || [ "$code" = 0 ] || { tail -n 30 "$WORK/err"; fail "$label: exit $code, not a kill"; }
  ok
  expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
  if [ "$(json_get "$WORK/out" 'j.length')" = 0 ]; then
    # killed before the first commit: the run was never created, and that is all right
    [ "$k" = 1 ] && [ "$before" = 1 ] || fail "$label: no run in the journal"
    ok
    return
  fi
  local id
  id=$(json_get "$WORK/out" 'j[0].id')
  case "$code $(json_get "$WORK/out" 'j[0].status')" in
    "137 running") killed_midway=$((killed_midway + 1)) ;;
    "137 completed"|"0 completed") ;; # the kill came at (or after) the run's last commit
    *) fail "$label: exit $code and status $(json_get "$WORK/out" 'j[0].status') before the resume" ;;
  esac
  ok
  resume_until_done "$D" "$id" "$label" "$k2" "$before2"
  summary "$D" "$id" "$label"
  compare "$label" "$D" "$id"
  scenarios=$((scenarios + 1))
}

for k in $(seq 1 "$commits"); do
  crash_at "$k" 0
  crash_at "$k" 1
done
# The resume killed too, early and late in what is left, after and before a commit.
for k in 1 3 5 $((commits / 2)) $((commits - 3)); do
  crash_at "$k" 0 2 0
  crash_at "$k" 1 3 1
done
echo "reference: $commits commits; $scenarios runs killed ($killed_midway of them mid-run) and resumed," \
  "$resumed_crashes resumes killed as well"
[ "$killed_midway" -ge "$commits" ] || fail "only $killed_midway runs were killed before their end"
ok
finish

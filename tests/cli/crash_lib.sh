# crash_lib.sh - shared by the tests that stop a run at a journal commit (tests/cli/test_crash.sh
# kills it, tests/cli/test_io_fault.sh makes the commit fail) and check that the resumed run ends
# exactly as an uninterrupted one. Source after lib.sh, with SHIM set to the crash shim's path.

# A GCC ASan build wants its runtime first in the library list; the shim is preloaded before it.
CRASH_ENV=(env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")

# quietly CMD... : runs CMD like a foreground command, without bash's "Killed" notice when it is
# killed (that is the point here); returns its exit status
quietly() { "$@" & wait $!; }

# summary DIR ID LABEL : the run's comparable state, in $WORK/LABEL.summary
summary() {
  local D=$1 id=$2 label=$3
  expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
  cp "$WORK/out" "$WORK/show.json"
  expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
  cp "$WORK/out" "$WORK/events.json"
  if ! node "$ROOT/tests/cli/crash_summary.js" "$WORK/show.json" "$WORK/events.json" "$D" > "$WORK/$label.summary" 2> "$WORK/problems"; then
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


# reference_run : one uninterrupted run of $WF with $CFG in $WORK/ref, counting its commits
# through the shim; sets R, ref_id and commits. Its --json is $WORK/ref.json, its comparable
# state $WORK/ref.summary.
reference_run() {
  R="$WORK/ref"
  expect_exit 0 "${CRASH_ENV[@]}" BATON_CRASH_COUNT_FILE="$WORK/commits" "$BATON" run "$WF" \
    --config "$CFG" --data-dir "$R" --json
  ref_id=$(json_get "$WORK/out" 'j.id')
  expect_eq "$(json_get "$WORK/out" 'j.status')" completed "reference run"
  cp "$WORK/out" "$WORK/ref.json"
  summary "$R" "$ref_id" ref
  commits=$(cat "$WORK/commits")
  [ "$commits" -ge 10 ] || fail "the reference run made only $commits commits"
  ok
}

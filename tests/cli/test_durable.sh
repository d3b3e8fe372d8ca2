#!/usr/bin/env bash
# The journal is the truth: projections rebuild from it identically, a damaged journal or
# database is detected and reported with what to do, backups restore, forks share history,
# retention deletes old runs, and the journal grows linearly with the work done.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/data"
brief="A chess club app"

expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --json --data-dir "$D" --input project_brief="$brief"
id=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" run workflows/code_review.yaml --auto-approve --json --data-dir "$D"

# rebuild: the tables rebuilt from the journal equal the live ones
sqlite3 "$D/baton.db" "SELECT * FROM runs ORDER BY id; SELECT * FROM tasks ORDER BY run_id, task_id;
  SELECT * FROM artifacts ORDER BY run_id, name, version; SELECT * FROM approvals ORDER BY run_id, task_id" > "$WORK/before"
expect_exit 0 "$BATON" admin rebuild --data-dir "$D"
expect_grep "identical to the live tables" "$WORK/out"
sqlite3 "$D/baton.db" "DELETE FROM tasks; DELETE FROM runs"        # lose the projections
expect_exit 0 "$BATON" admin rebuild --data-dir "$D"
sqlite3 "$D/baton.db" "SELECT * FROM runs ORDER BY id; SELECT * FROM tasks ORDER BY run_id, task_id;
  SELECT * FROM artifacts ORDER BY run_id, name, version; SELECT * FROM approvals ORDER BY run_id, task_id" > "$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || { diff "$WORK/before" "$WORK/after" | head; fail "rebuilt tables differ"; }; ok

expect_exit 0 "$BATON" admin check --data-dir "$D"
expect_grep "ok:" "$WORK/out"

# backup while the data dir is in use, restore after damage
expect_exit 0 "$BATON" backup "$WORK/backup.db" --data-dir "$D"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
n_runs=$(json_get "$WORK/out" 'j.length')

# a journal with a gap is found and explained
sqlite3 "$D/baton.db" "DELETE FROM events WHERE run_id = '$id' AND seq = 7"
expect_exit 1 "$BATON" admin check --data-dir "$D"
expect_grep "gap" "$WORK/out"
expect_grep "intact up to 6" "$WORK/out"
expect_grep "baton restore" "$WORK/out"
expect_exit 2 "$BATON" run --resume "$id" --data-dir "$D"
expect_grep "gap" "$WORK/err"

# the backup is self-contained: it carries the artifact blobs too
rm -rf "$D/blobs"
expect_exit 0 "$BATON" restore "$WORK/backup.db" --data-dir "$D"
expect_exit 0 "$BATON" admin check --data-dir "$D"
expect_exit 0 "$BATON" artifacts cat "$id" requirements.md --data-dir "$D"
expect_grep "$brief" "$WORK/out"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.length')" "$n_runs" "runs after restore"

# a blob damaged in place (same size) is repaired by restoring a good backup
blob=$(find "$D/blobs" -type f | head -n1)
chmod u+w "$blob"; printf 'X' | dd of="$blob" bs=1 seek=3 conv=notrunc 2>/dev/null
expect_exit 1 "$BATON" admin check --data-dir "$D"
expect_grep "corrupted\|damaged\|does not match" "$WORK/out"
expect_exit 0 "$BATON" restore "$WORK/backup.db" --data-dir "$D"
expect_exit 0 "$BATON" artifacts ls "$id" --verify --data-dir "$D"

# a failed backup never destroys the previous one, and the live database is never a target
cp "$WORK/backup.db" "$WORK/keep.db"
blob=$(find "$D/blobs" -type f | head -n1)
chmod u+w "$blob"; printf 'X' | dd of="$blob" bs=1 seek=3 conv=notrunc 2>/dev/null
expect_exit 1 "$BATON" backup "$WORK/keep.db" --data-dir "$D"
cmp -s "$WORK/backup.db" "$WORK/keep.db" || fail "a failed backup changed the previous one"; ok
expect_exit 1 "$BATON" backup "$D/baton.db" --data-dir "$D"
expect_grep "live database" "$WORK/err"
expect_exit 0 "$BATON" restore "$WORK/backup.db" --data-dir "$D"

# a backup with a damaged blob is refused before anything changes
cp "$WORK/backup.db" "$WORK/damaged.db"
sqlite3 "$WORK/damaged.db" "UPDATE backup_blobs SET data = CAST('tampered' AS BLOB) WHERE rowid IN (SELECT rowid FROM backup_blobs LIMIT 1)" 2>/dev/null \
  || sqlite3 "$WORK/damaged.db" "UPDATE backup_blobs SET data = CAST('tampered' AS BLOB) WHERE sha = (SELECT min(sha) FROM backup_blobs)"
expect_exit 0 "$BATON" run workflows/code_review.yaml --auto-approve --json --data-dir "$D"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
before_runs=$(json_get "$WORK/out" 'j.length')
expect_exit 1 "$BATON" restore "$WORK/damaged.db" --data-dir "$D"
expect_grep "damaged" "$WORK/err"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.length')" "$before_runs" "runs after a refused restore"
expect_eq "$(sqlite3 "$D/baton.db" "SELECT count(*) FROM sqlite_master WHERE name = 'backup_blobs'")" 0 "packing table left in the live database"
expect_exit 0 "$BATON" restore "$WORK/backup.db" --data-dir "$D"

# a mistyped data dir is not created and not reported healthy
expect_exit 1 "$BATON" admin check --data-dir "$WORK/typo"
expect_grep "no Baton data dir" "$WORK/err"
[ ! -e "$WORK/typo" ] || fail "admin check created the data dir"; ok

# not a backup: refused, nothing changed
echo "hello" > "$WORK/notadb"
expect_exit 1 "$BATON" restore "$WORK/notadb" --data-dir "$D"
expect_grep "not a Baton backup" "$WORK/err"
expect_exit 0 "$BATON" admin check --data-dir "$D"

# a damaged database file is reported, with what to do
mkdir -p "$WORK/bad"
head -c 8192 /dev/urandom > "$WORK/bad/baton.db"
expect_exit 1 "$BATON" runs ls --data-dir "$WORK/bad"
expect_grep "not a usable Baton database" "$WORK/err"
expect_grep "baton restore" "$WORK/err"
# a truncated one too
mkdir -p "$WORK/trunc"
head -c 3000 "$WORK/backup.db" > "$WORK/trunc/baton.db"
expect_exit 1 "$BATON" runs ls --data-dir "$WORK/trunc"
expect_grep "not a usable Baton database" "$WORK/err"
expect_exit 1 "$BATON" admin check --data-dir "$WORK/trunc"

# a newer schema is refused with a clear message
cp "$WORK/backup.db" "$WORK/newer.db"
sqlite3 "$WORK/newer.db" "PRAGMA user_version = 999"
mkdir -p "$WORK/newer" && cp "$WORK/newer.db" "$WORK/newer/baton.db"
expect_exit 1 "$BATON" runs ls --data-dir "$WORK/newer"
expect_grep "newer than this baton" "$WORK/err"
expect_exit 1 "$BATON" restore "$WORK/newer.db" --data-dir "$D"
expect_grep "newer Baton" "$WORK/err"

# fork: shares history up to --at, carries on with new inputs, records its parent
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
at=$(json_get "$WORK/out" 'j.find(e => e.type == "task.completed" && e.data.task == "requirements").seq')
expect_exit 0 "$BATON" runs fork "$id" --at "$at" --input project_brief="A go club app" --auto-approve --json --data-dir "$D"
fork=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "fork status"
expect_exit 0 "$BATON" runs events "$fork" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j[0].data.parent_run_id')" "$id" "fork parent"
expect_eq "$(json_get "$WORK/out" "j.filter(e => e.seq <= $at && e.type == 'task.completed').length")" 2 "shared completions"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.completed").length')" 11 "fork completions"
# tasks before the fork point kept the parent's results; later ones saw the new brief
expect_exit 0 "$BATON" runs show "$fork" --json --data-dir "$D"
grep -q "A go club app" "$D/artifacts/$fork/delivery_summary.md" \
  || fail "the fork's later tasks did not see the new input"; ok
sqlite3 "$D/baton.db" "SELECT parent_run_id FROM runs WHERE id = '$fork'" > "$WORK/parent"
expect_grep "$id" "$WORK/parent"
expect_exit 2 "$BATON" runs fork "$id" --at 100000 --data-dir "$D"
expect_grep "past its end" "$WORK/err"
# forking between an artifact's write and its task's completion does not count the version twice
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
aw=$(json_get "$WORK/out" 'j.find(e => e.type == "artifact.written").seq')
expect_exit 0 "$BATON" runs fork "$id" --at "$aw" --auto-approve --json --data-dir "$D"
f2=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" artifacts ls "$f2" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j).includes("\"version\":2")')" false "duplicated artifact version"
# a fork past a gap is refused and leaves no half-born run
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
n_before=$(json_get "$WORK/out" 'j.length')
sqlite3 "$D/baton.db" "DELETE FROM events WHERE run_id = '$id' AND seq = 5"
expect_exit 2 "$BATON" runs fork "$id" --at 9 --data-dir "$D"
expect_grep "gap" "$WORK/err"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.length')" "$n_before" "runs after a refused fork"

# retention: finished runs older than the policy go, with their events and files
printf 'retention: {runs: 1s, keep_failed: 90d}\n' > "$WORK/ret.yaml"
sleep 1.2
expect_exit 0 "$BATON" admin sweep --config "$WORK/ret.yaml" --data-dir "$D"
expect_grep "deleted" "$WORK/out"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.length')" 0 "runs after the sweep"
expect_eq "$(sqlite3 "$D/baton.db" 'SELECT count(*) FROM events')" 0 "events after the sweep"
[ ! -d "$D/artifacts/$id" ] || fail "the swept run's artifacts are still on disk"; ok
# blobs nothing references are collected once past their grace period (an hour)
[ "$(find "$D/blobs" -type f | wc -l)" -gt 0 ] || fail "expected blobs left to collect"; ok
find "$D/blobs" -type f -exec touch -d '2 hours ago' {} +
expect_exit 0 "$BATON" admin sweep --config "$WORK/ret.yaml" --data-dir "$D"
expect_eq "$(find "$D/blobs" -type f | wc -l)" 0 "blobs left after collection"

# the journal stores deltas: bytes per task do not grow with the run's length
mkchain() {
  { echo "name: chain$1"; echo "agents: {w: {instructions: Be brief., word_limit: 15}}"; echo "tasks:"
    echo "  - {id: t0, agent: w}"
    for i in $(seq 1 $(($1 - 1))); do echo "  - {id: t$i, agent: w, depends_on: [t$((i - 1))], inputs: {prev: '{{tasks.t$((i - 1)).output}}'}}"; done
  } > "$WORK/chain$1.yaml"
}
mkchain 50; mkchain 200
expect_exit 0 "$BATON" run "$WORK/chain50.yaml" --json --data-dir "$WORK/j50"
expect_exit 0 "$BATON" run "$WORK/chain200.yaml" --json --data-dir "$WORK/j200"
b50=$(sqlite3 "$WORK/j50/baton.db" "SELECT sum(length(data)) FROM events WHERE type != 'run.created'")
b200=$(sqlite3 "$WORK/j200/baton.db" "SELECT sum(length(data)) FROM events WHERE type != 'run.created'")
per50=$((b50 / 50)); per200=$((b200 / 200))
echo "journal bytes per task: $per50 (50 tasks), $per200 (200 tasks)"
[ "$per200" -le $((per50 * 12 / 10)) ] || fail "journal bytes per task grew with the run: $per50 -> $per200"; ok
finish

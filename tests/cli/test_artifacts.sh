#!/usr/bin/env bash
# `baton artifacts ls|cat|diff`: every write of a name is a version; the bytes live once in
# content-addressed blobs; cat serves only bytes that match the journaled SHA-256; diff prints
# what `diff -u` prints. A damaged or missing blob is reported with what to do, by cat, by
# ls --verify, and by a resume (which stops rather than run on without the artifact).
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/data"
WF=tests/cli/fixtures/artifact_versions.yaml

# The run stops at the first approval: notes.md has two versions by then.
expect_exit 3 "$BATON" run "$WF" --data-dir "$D"
id=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
[ -n "$id" ] || fail "no run id in the output"

expect_exit 0 "$BATON" artifacts ls "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.map(a => a.name).join(",")')" "notes.md" "artifact names"
expect_eq "$(json_get "$WORK/out" 'j[0].versions.map(v => v.version + ":" + v.task).join(",")')" \
  "1:first,2:second" "versions of notes.md"
expect_eq "$(json_get "$WORK/out" 'j[0].versions.every(v => v.blob == "blobs/" + v.sha256.slice(0, 2) + "/" + v.sha256)')" \
  true "blob paths"
sha1=$(json_get "$WORK/out" 'j[0].versions[0].sha256')
sha2=$(json_get "$WORK/out" 'j[0].versions[1].sha256')
bytes1=$(json_get "$WORK/out" 'j[0].versions[0].bytes')
expect_exit 0 "$BATON" artifacts ls "${id:0:8}" --data-dir "$D"
expect_grep "notes.md .* 1 .*first .*writer .*text/markdown" "$WORK/out"

# the journaled event carries the blob too (for the store: clients see it without, docs/api.md)
expect_eq "$(sqlite3 "$D/baton.db" "SELECT group_concat(json_extract(data, '$.blob') LIKE 'blobs/%', ',') FROM events WHERE run_id = '$id' AND type = 'artifact.written'")" \
  "1,1" "artifact.written has blob in the journal"
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "artifact.written").map(e => "blob" in e.data || "path" in e.data).join(",")')" \
  "false,false" "runs events --json shows no server path"

# blobs on disk: read-only, named by their hash; the run's files are links to them
blob1="$D/blobs/${sha1:0:2}/$sha1"
[ -f "$blob1" ] || fail "no blob $blob1"
ok
expect_eq "$(stat -c %a "$blob1")" 444 "blob mode"
expect_eq "$(stat -c %i "$blob1")" "$(stat -c %i "$D/artifacts/$id/notes.md")" "run file is the blob"

# cat: the latest by default, any version with --version; bytes match the recorded hash
expect_exit 0 "$BATON" artifacts cat "$id" notes.md --data-dir "$D"
cp "$WORK/out" "$WORK/v2"
expect_eq "$(sha256sum < "$WORK/v2" | cut -d' ' -f1)" "$sha2" "sha256 of cat (latest)"
expect_exit 0 "$BATON" artifacts cat "$id" notes.md --version 1 --data-dir "$D"
cp "$WORK/out" "$WORK/v1"
expect_eq "$(sha256sum < "$WORK/v1" | cut -d' ' -f1)" "$sha1" "sha256 of cat --version 1"
expect_eq "$(wc -c < "$WORK/v1")" "$bytes1" "bytes of cat --version 1"

# diff: headers name the versions; the patch turns v1 into v2 and changes what diff -u changes
expect_exit 0 "$BATON" artifacts diff "$id" notes.md --data-dir "$D"
cp "$WORK/out" "$WORK/d12"
expect_eq "$(sed -n 1p "$WORK/d12")" "--- notes.md@v1" "diff header ---"
expect_eq "$(sed -n 2p "$WORK/d12")" "+++ notes.md@v2" "diff header +++"
expect_grep "^@@ -[0-9]*\(,[0-9]*\)\? +[0-9]*\(,[0-9]*\)\? @@$" "$WORK/d12"
set +e
diff -u "$WORK/v1" "$WORK/v2" > "$WORK/gnu"
set -e
changed() { tail -n +3 "$1" | grep -c '^[-+]' || true; } # after the two header lines
expect_eq "$(changed "$WORK/d12")" "$(changed "$WORK/gnu")" "lines changed, as diff -u"
cp "$WORK/v1" "$WORK/patched"
patch -s "$WORK/patched" < "$WORK/d12" || fail "the diff does not apply with patch(1)"
cmp -s "$WORK/patched" "$WORK/v2" || fail "patching v1 with the diff does not give v2"
ok
expect_exit 0 "$BATON" artifacts diff "$id" notes.md --from 2 --to 2 --data-dir "$D"
expect_eq "$(wc -c < "$WORK/out")" 0 "diff of a version with itself"

# final.md: three versions whose text we give when approving (modify + edited output), so the
# diff can be compared with diff -u byte for byte. A and C are the same bytes.
printf 'title\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\nend\n' > "$WORK/A"
printf 'title\nONE\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\nend' > "$WORK/B"
expect_exit 3 "$BATON" approvals respond "$id" draft --decision modify --edited-output-file "$WORK/A" --data-dir "$D"

# A damaged blob: cat refuses it and says which blob and what to do.
cp "$blob1" "$WORK/blob1.bak"
chmod u+w "$blob1"
printf 'X' | dd of="$blob1" bs=1 seek=10 conv=notrunc 2>/dev/null
expect_exit 1 "$BATON" artifacts cat "$id" notes.md --version 1 --data-dir "$D"
expect_eq "$(wc -c < "$WORK/out")" 0 "bytes served from a corrupted blob"
expect_grep "blobs/${sha1:0:2}/$sha1 is corrupted" "$WORK/err"
expect_grep "expected sha256 $sha1, found [0-9a-f]\{64\}" "$WORK/err"
expect_grep "restore .* from a backup (baton backup), or re-run the task that wrote it" "$WORK/err"
expect_exit 1 "$BATON" artifacts diff "$id" notes.md --data-dir "$D"
expect_grep "is corrupted" "$WORK/err"
expect_exit 1 "$BATON" artifacts ls "$id" --verify --data-dir "$D"
expect_grep "DAMAGED" "$WORK/out"
expect_grep "notes.md v1 .*is corrupted" "$WORK/err"
expect_exit 1 "$BATON" artifacts ls "$id" --verify --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.find(a => a.name == "notes.md").versions.map(v => v.ok).join(",")')" \
  "false,true" "ls --verify --json"
# ... and a resume (here: answering the next approval) stops before running on without it.
expect_exit 2 "$BATON" approvals respond "$id" redraft --decision modify --edited-output-file "$WORK/B" --data-dir "$D"
expect_grep "artifact notes.md v1: blob .*$sha1 is corrupted" "$WORK/err"
expect_grep "baton backup" "$WORK/err"
expect_exit 0 "$BATON" approvals ls --data-dir "$D" --json
expect_eq "$(json_get "$WORK/out" 'j[0].task_id')" redraft "still waiting after the refused resume"

# Restored bytes: everything works again and the run carries on.
cat "$WORK/blob1.bak" > "$blob1"
expect_exit 0 "$BATON" artifacts ls "$id" --verify --data-dir "$D"
expect_exit 3 "$BATON" approvals respond "$id" redraft --decision modify --edited-output-file "$WORK/B" --data-dir "$D"

# A missing blob is reported too.
expect_exit 0 "$BATON" artifacts ls "$id" --json --data-dir "$D"
shaB=$(json_get "$WORK/out" 'j.find(a => a.name == "final.md").versions[1].sha256')
blobB="$D/blobs/${shaB:0:2}/$shaB"
mv "$blobB" "$WORK/blobB.bak"
expect_exit 1 "$BATON" artifacts cat "$id" final.md --data-dir "$D"
expect_grep "blobs/${shaB:0:2}/$shaB cannot be read (No such file or directory)" "$WORK/err"
expect_grep "baton backup" "$WORK/err"
expect_exit 1 "$BATON" artifacts ls "$id" --verify --data-dir "$D"
mv "$WORK/blobB.bak" "$blobB"

expect_exit 0 "$BATON" approvals respond "$id" again --decision modify --edited-output-file "$WORK/A" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "run status"

# Identical bytes are stored once: 5 versions, 4 distinct contents, 4 blobs.
expect_exit 0 "$BATON" artifacts ls "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.map(a => a.name + ":" + a.versions.length).join(",")')" \
  "final.md:3,notes.md:2" "versions"
expect_eq "$(json_get "$WORK/out" 'j[0].versions[0].sha256 == j[0].versions[2].sha256')" true "same bytes, same hash"
expect_eq "$(find "$D/blobs" -type f | wc -l)" 4 "blob count"
expect_eq "$(stat -c %i "$D/artifacts/$id/final.md")" "$(stat -c %i "$D/artifacts/$id/final.v3.md")" \
  "v1 and v3 share a blob"

# diff with --from/--to against diff -u, byte for byte after the headers (two hunks, a missing
# final newline)
expect_exit 0 "$BATON" artifacts diff "$id" final.md --from 1 --to 2 --data-dir "$D"
expect_eq "$(sed -n 1,2p "$WORK/out")" "$(printf -- '--- final.md@v1\n+++ final.md@v2')" "diff headers"
set +e
diff -u "$WORK/A" "$WORK/B" | tail -n +3 > "$WORK/gnu"
set -e
tail -n +3 "$WORK/out" > "$WORK/ours"
cmp -s "$WORK/ours" "$WORK/gnu" || { diff "$WORK/gnu" "$WORK/ours"; fail "hunks differ from diff -u"; }
ok
expect_eq "$(grep -c '^@@' "$WORK/ours")" 2 "hunks"
# default: the latest against the one before (v2 -> v3)
expect_exit 0 "$BATON" artifacts diff "$id" final.md --data-dir "$D"
expect_eq "$(sed -n 1,2p "$WORK/out")" "$(printf -- '--- final.md@v2\n+++ final.md@v3')" "default versions"
set +e
diff -u "$WORK/B" "$WORK/A" | tail -n +3 > "$WORK/gnu"
set -e
tail -n +3 "$WORK/out" | cmp -s - "$WORK/gnu" || fail "v2 -> v3 differs from diff -u"
ok

# A data dir from before blobs (schema 1: no blob column, events without "blob"): migrated at
# open, and its artifacts are read from their files, checked against the same hashes, also by
# a resume. Needs the sqlite3 shell to turn a data dir back into an old one.
if command -v sqlite3 >/dev/null; then
  L="$WORK/legacy"
  expect_exit 3 "$BATON" run "$WF" --data-dir "$L"
  lid=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
  sqlite3 "$L/baton.db" "UPDATE events SET data = json_remove(data, '\$.blob');
    ALTER TABLE artifacts DROP COLUMN blob; DROP TABLE llm_calls; DROP TABLE llm_cache;
    DROP TABLE workflow_versions; DROP TABLE workflows; ALTER TABLE runs DROP COLUMN workflow_id;
    ALTER TABLE runs DROP COLUMN workflow_version; ALTER TABLE runs DROP COLUMN simulated;
    ALTER TABLE tasks DROP COLUMN simulated; PRAGMA user_version = 1;"
  chmod -R u+w "$L/blobs" && rm -rf "$L/blobs"
  expect_exit 0 "$BATON" artifacts cat "$lid" notes.md --version 1 --data-dir "$L"
  expect_eq "$(sha256sum < "$WORK/out" | cut -d' ' -f1)" "$sha1" "legacy cat"
  expect_eq "$(sqlite3 "$L/baton.db" 'PRAGMA user_version' | awk '{print ($1 >= 4)}')" 1 "schema migrated"
  expect_eq "$(sqlite3 "$L/baton.db" "SELECT count(*) FROM sqlite_master WHERE name = 'llm_calls'")" 1 "llm_calls restored"
  expect_exit 0 "$BATON" artifacts ls "$lid" --json --data-dir "$L"
  expect_eq "$(json_get "$WORK/out" 'j[0].versions.map(v => v.blob).join(",")')" "," "legacy rows have no blob"
  expect_exit 3 "$BATON" approvals respond "$lid" draft --decision modify --edited-output-file "$WORK/A" --data-dir "$L"
  chmod u+w "$L/artifacts/$lid/notes.md"
  printf 'tampered' >> "$L/artifacts/$lid/notes.md"
  expect_exit 1 "$BATON" artifacts cat "$lid" notes.md --version 1 --data-dir "$L"
  expect_grep "notes.md is damaged: it has $((bytes1 + 8)) bytes, the journal recorded $bytes1" "$WORK/err"
  expect_exit 2 "$BATON" approvals respond "$lid" redraft --decision approve --data-dir "$L"
  expect_grep "artifact notes.md v1: file .*notes.md is damaged" "$WORK/err"
fi

# Mistakes: unknown run, name or version exit 1 and say so; bad options exit 2.
expect_exit 1 "$BATON" artifacts ls r-nope --data-dir "$D"
expect_grep "no run 'r-nope'" "$WORK/err"
expect_exit 1 "$BATON" artifacts cat "$id" nope.md --data-dir "$D"
expect_grep "has no artifact 'nope.md' (it has: final.md, notes.md)" "$WORK/err"
expect_exit 1 "$BATON" artifacts cat "$id" notes.md --version 9 --data-dir "$D"
expect_grep "has no version 9 (it has 1 to 2)" "$WORK/err"
expect_exit 1 "$BATON" artifacts diff "$id" notes.md --from 1 --to 3 --data-dir "$D"
expect_grep "no version 3" "$WORK/err"
expect_exit 2 "$BATON" artifacts cat "$id" notes.md --version two --data-dir "$D"
expect_grep "wants a version number" "$WORK/err"
expect_exit 2 "$BATON" artifacts cat "$id" --data-dir "$D"
expect_exit 2 "$BATON" artifacts ls "$id" --version 1 --data-dir "$D"
expect_exit 2 "$BATON" artifacts frob "$id" --data-dir "$D"
expect_exit 2 "$BATON" artifacts
finish

#!/usr/bin/env bash
# A FIFO planted where an artifact's blob and file were must not hang anything: the server
# answers its content route with 500 artifact_damaged at once, keeps answering, and stops on
# SIGTERM; `baton artifacts cat` says what is wrong instead of waiting for a writer for ever.
# (Before: the server's loop blocked in open() and ignored SIGTERM.)
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/d"
expect_exit 3 "$BATON" run tests/cli/fixtures/artifact_versions.yaml --data-dir "$D"
id=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
sha=$(sqlite3 "$D/baton.db" "SELECT sha256 FROM artifacts WHERE run_id = '$id' AND name = 'notes.md' AND version = 1")
[ -n "$sha" ] || fail "no artifact notes.md v1 in run $id"
blob="$D/blobs/${sha:0:2}/$sha"
[ -f "$blob" ] || fail "no blob $blob"
# both places the bytes may be read from become FIFOs nobody writes to
for f in "$blob" "$D/artifacts/$id/notes.md" "$D/artifacts/$id/notes.v2.md"; do
  [ -e "$f" ] && { chmod u+w "$f" 2>/dev/null; rm -f "$f"; mkfifo "$f"; }
done
ok

expect_exit 1 timeout 10 "$BATON" artifacts cat "$id" notes.md --version 1 --data-dir "$D"
expect_grep "not a regular file" "$WORK/err"

serve
get GET "/api/v1/runs/$id/artifacts/notes.md/content?version=1" --max-time 10
expect_eq "$(status_code) $(err_code)" "500 artifact_damaged" "a FIFO for a blob"
get GET /health --max-time 5
expect_eq "$(status_code)" 200 "the server still answers"
stop_serve
finish

#!/usr/bin/env bash
# `baton workflows ls|show|push|rm`, on a data dir and (--server) on a server over the same data
# dir, with the same output: a pushed file is checked here first (located errors, exit 2,
# nothing stored), stored as version 1, pushed again with --id as version 2 (the same bytes
# again make none), shown at any version, listed, and removed.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/d"
cp workflows/sdlc.yaml "$WORK/flow.yaml"

printf 'name: X\ntasks: []\n' > "$WORK/bad.yaml"
expect_exit 2 "$BATON" workflows push "$WORK/bad.yaml" --data-dir "$D"
expect_grep "bad.yaml:" "$WORK/err"
expect_exit 0 "$BATON" workflows push "$WORK/flow.yaml" --json --data-dir "$D"
id=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.version + " " + j.name')" "1 Software Delivery Lifecycle" "stored locally"
sed -i 's/^name: Software Delivery Lifecycle/name: SDLC v2/' "$WORK/flow.yaml"

serve
expect_exit 0 "$BATON" workflows push "$WORK/flow.yaml" --id "$id" --server "$API"
expect_grep "updated $id version 2 (SDLC v2)" "$WORK/out"
expect_exit 0 "$BATON" workflows push "$WORK/flow.yaml" --id "$id" --server "$API"
expect_grep "version 2" "$WORK/out"
expect_exit 2 "$BATON" workflows push "$WORK/bad.yaml" --server "$API"

# the same output from the data dir and from the server
for args in "ls --json" "show $id --json" "show $id --version 1 --json" "show $id"; do
  expect_exit 0 "$BATON" workflows $args --server "$API"
  cp "$WORK/out" "$WORK/remote.out"
  expect_exit 0 "$BATON" workflows $args --data-dir "$D"
  cmp -s "$WORK/out" "$WORK/remote.out" || { diff "$WORK/out" "$WORK/remote.out" | head; fail "workflows $args differs"; }
  ok
done
expect_exit 0 "$BATON" workflows show "$id" --data-dir "$D"
cmp -s "$WORK/out" "$WORK/flow.yaml" || fail "show prints the latest source as pushed"
ok
expect_exit 0 "$BATON" workflows rm "$id" --server "$API"
expect_exit 1 "$BATON" workflows show "$id" --server "$API"
expect_exit 1 "$BATON" workflows show "$id" --data-dir "$D"
expect_exit 0 "$BATON" workflows ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.length')" 0 "removed"
stop_serve
expect_exit 2 "$BATON" workflows nonsense
finish

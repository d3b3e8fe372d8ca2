#!/usr/bin/env bash
# The live view on a terminal redraws its frame in place: every frame but the first starts by
# moving the cursor up over the one before it. With --auto-approve the human step is answered
# without stopping the view, so no second frame is drawn below the first (it was, before).
source "$(dirname "$0")/lib.sh" "$@"
printf 'providers:\n  offline:\n    latency_ms: 120\n' > "$WORK/slow.yaml"

# frames FILE: "FRAMES BELOW": frames drawn, and frames drawn below the previous (no cursor-up)
frames() {
  node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8");
    let frames = 0, below = 0, i = -1;
    while ((i = t.indexOf("Software Delivery Lifecycle", i + 1)) >= 0) {
      frames++;
      if (!/\x1b\[\d+A(\x1b\[2K)?$/.test(t.slice(Math.max(0, i - 16), i))) below++;
    }
    console.log(frames + " " + below);' "$1"
}

on_terminal "$BATON run workflows/sdlc.yaml --auto-approve --config $WORK/slow.yaml --data-dir $WORK/d --input project_brief=wiki" > "$WORK/tty.out" 2>&1 </dev/null
grep -q "completed" "$WORK/tty.out" || { tail -c 2000 "$WORK/tty.out"; fail "the run did not complete"; }
read -r n below < <(frames "$WORK/tty.out")
[ "$n" -ge 5 ] || fail "expected several frames of the live view, got $n"
ok
expect_eq "$below" 1 "frames drawn below the first (of $n)"
finish

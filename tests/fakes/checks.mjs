// checks.mjs - the little harness the protocol checks share (sdk_check.mjs, and
// bench/check_fake_openai.mjs): one line per check, "N passed, M failed" at the end, a
// non-zero exit on any failure, and a watchdog so a hung stream fails the run rather than hangs.
export function checks({ watchdogMs = 60_000 } = {}) {
  let passed = 0;
  let failed = 0;
  const summary = () => `${passed} passed, ${failed} failed`;
  setTimeout(() => {
    failed++;
    console.log(`FAIL watchdog: checks still running after ${watchdogMs / 1000} s\n${summary()}`);
    process.exit(1);
  }, watchdogMs).unref();
  return {
    async check(name, fn) {
      try {
        await fn();
        passed++;
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
      }
    },
    finish() {
      console.log(summary());
      process.exit(failed ? 1 : 0);
    },
  };
}

/* summary.c - what the CLI adds to a run's summary (store_run_summary): the savings line, and
 * the notice of a simulated run. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

void cli_print_savings(FILE *out, const json_t *sum) {
    const json_t *llm = json_object_get(sum, "llm");
    const json_t *ref = json_object_get(llm, "reference_cost_usd");
    json_int_t cached = json_integer_value(json_object_get(llm, "cached"));
    if (json_is_number(ref))
        fprintf(out, "reference $%.4f  savings $%.4f", json_number_value(ref),
                json_number_value(json_object_get(llm, "savings_usd")));
    if (cached)
        fprintf(out, "%s%lld cached call%s", json_is_number(ref) ? "  " : "", (long long)cached,
                cached == 1 ? "" : "s");
    if (json_is_number(ref) || cached) fputc('\n', out);
}

void cli_print_simulated_notice(FILE *out, const char *tasks) {
    if (tasks && *tasks)
        fprintf(out, "baton: simulated: the offline model may answer for %s; ", tasks);
    else
        fputs("baton: simulated: the offline model answered for this run; ", out);
    fputs("what it writes is a stand-in, not real work (marked \"simulated\"). To use a real "
          "model, set `providers` and `tiers` in baton.yaml (--config FILE): see "
          "docs/models.md.\n",
          out);
}

/* prompt.c - what an agent is told: its instructions as the system message, the task's prompt
 * and rendered inputs as the user message. Stable text, so the same task gives the same request
 * (the offline model and the response cache both depend on that). */
#include "engine/engine_internal.h"
#include "core/expr.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const char *format_rule(output_format_t f) {
    switch (f) {
    case OUTPUT_JSON:
        return "Answer with one JSON value only, no prose and no code fences.";
    case OUTPUT_TEXT:
        return "Answer in plain text.";
    default:
        return "Answer in well-structured Markdown.";
    }
}

void prompt_compose(const wf_task_t *task, const wf_agent_t *agent, const char *task_prompt,
                    const json_t *inputs, const char *feedback, const json_t *guidance,
                    const char *repair, const json_t *previous, char **system, char **user) {
    strbuf_t s = {0}, u = {0};
    if (agent->name) sb_printf(&s, "You are %s", agent->name);
    if (agent->role) sb_printf(&s, "%s%s", s.len ? ", " : "You are ", agent->role);
    if (s.len) sb_puts(&s, ".\n");
    if (agent->goal) sb_printf(&s, "Your goal: %s\n", agent->goal);
    if (agent->instructions) sb_printf(&s, "\n%s\n", agent->instructions);
    sb_printf(&s, "\n%s", format_rule(agent->format));
    if (agent->word_limit > 0) sb_printf(&s, " Stay within %d words.", agent->word_limit);
    if (agent->format == OUTPUT_JSON && agent->schema) {
        char *schema = json_dumps(agent->schema, JSON_COMPACT | JSON_SORT_KEYS);
        sb_printf(&s, "\nThe JSON must match this schema: %s", schema);
        free(schema);
    }

    sb_printf(&u, "Task: %s", task->name);
    if (task_prompt && *task_prompt) sb_printf(&u, "\n\n%s", task_prompt);
    if (inputs && json_object_size(inputs)) {
        sb_puts(&u, "\n\nInputs:");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)inputs, k, v) {
            char *text = expr_format(v);
            sb_printf(&u, "\n\n## %s\n%s", k, text);
            free(text);
        }
    }
    if (previous) {
        char *text = expr_format(previous);
        sb_printf(&u, "\n\nYour previous iteration produced:\n%s", text);
        free(text);
    }
    if (feedback) sb_printf(&u, "\n\nReviewer feedback to address: %s", feedback);
    size_t k;
    json_t *g;
    json_array_foreach(guidance, k, g) {
        const char *from = json_string_value(json_object_get(g, "from"));
        sb_printf(&u, "\n\nGuidance from %s: %s", from && *from ? from : "the team",
                  json_string_value(json_object_get(g, "text")));
    }
    if (repair)
        sb_printf(&u,
                  "\n\nYour previous answer was not valid: %s. Answer again with JSON that "
                  "matches the schema.",
                  repair);
    *system = sb_take(&s);
    *user = sb_take(&u);
}

/* task_consensus.c - `type: consensus`: several agents vote in parallel, the engine tallies.
 *
 * Every agent answers {decision, confidence, rationale} (a JSON schema the engine builds from
 * `options`, so the vote is validated like any JSON output). Methods (spec section 7, and
 * docs/workflow-language.md for the thresholds):
 *   majority  - the option with the most votes wins if it has more than half of the votes cast;
 *   unanimous - every vote cast names the same option;
 *   weighted  - votes weigh their confidence; the top option wins with more than half the weight.
 * Votes missing at the deadline, and failed calls, are abstentions. Ties go to the earliest option.
 */
#include "core/jsonschema.h"
#include "core/template.h"
#include "engine/engine_internal.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct vote_ctx {
    task_exec_t *x;
    size_t k;
    double cost;
} vote_ctx_t;

static json_t *vote_schema(const json_t *options) {
    return json_pack("{s:s, s:[sss], s:{s:{s:s, s:O}, s:{s:s, s:i, s:i}, s:{s:s, s:i}}}", "type",
                     "object", "required", "decision", "confidence", "rationale", "properties",
                     "decision", "type", "string", "enum", options, "confidence", "type", "number",
                     "minimum", 0, "maximum", 1, "rationale", "type", "string", "minLength", 1);
}

static void tally(engine_run_t *run, uint32_t i);

/* What the votes that came in cost. */
static double votes_cost(const task_exec_t *x, const wf_task_t *t) {
    double cost = 0;
    for (size_t k = 0; x->vote_ctx && k < t->n_consensus_agents; k++) cost += x->vote_ctx[k].cost;
    return cost;
}

void consensus_cancel(engine_run_t *run, uint32_t i) {
    task_exec_t *x = &run->exec[i];
    if (!x->vote_calls) return;
    const wf_task_t *t = &run->wf->tasks[i];
    for (size_t k = 0; k < t->n_consensus_agents; k++)
        if (x->vote_calls[k]) provider_cancel(run->eng->o.provider, x->vote_calls[k]);
    free(x->vote_ctx);
    free(x->vote_calls);
    x->vote_calls = NULL;
    x->vote_ctx = NULL;
    x->votes_pending = 0;
}

static void vote_done(void *ud, llm_response_t *resp, const llm_error_t *error) {
    vote_ctx_t *c = ud;
    task_exec_t *x = c->x;
    engine_run_t *run = x->run;
    const wf_task_t *t = &run->wf->tasks[x->index];
    x->vote_calls[c->k] = NULL;
    x->votes_pending--;
    if (resp) {
        c->cost = resp->cost_usd;
        json_t *schema = vote_schema(t->options);
        json_t *v = resp->json ? json_incref(resp->json) : json_loads(resp->text, 0, NULL);
        char err[256];
        if (v && jsonschema_validate(schema, v, err, sizeof err) == 0) {
            json_object_set_new(v, "agent", json_string(t->consensus_agents[c->k]));
            json_array_set(x->votes, c->k, v);
        }
        json_decref(v);
        json_decref(schema);
        llm_response_free(resp);
        free(resp);
    }
    if (!resp && error && error->kind == LLM_ERR_SPEND_LIMIT) {
        /* Not an abstention: the budget stopped the vote, and on_exceed decides (tally). */
        x->spend_refused_usd += error->estimate_usd;
        if (!x->spend_note) x->spend_note = xstrdup(error->message);
    }
    /* any other failed vote is an abstention, recorded as null */
    if (x->votes_pending == 0) tally(run, x->index);
}

/* The vote deadline counts missing votes as abstentions; a timeout (when it comes first, or
 * when there is no deadline) fails the attempt like any timeout, and it is retried. */
static void timer_fire(uv_timer_t *h) {
    task_exec_t *x = h->data;
    if (x->timer_is_deadline) {
        tally(x->run, x->index);
        return;
    }
    const wf_task_t *t = &x->run->wf->tasks[x->index];
    char *msg = xasprintf("timed out after %gs with %zu of %zu votes in", t->timeout_s,
                          t->n_consensus_agents - x->votes_pending, t->n_consensus_agents);
    task_attempt_failed(x->run, x->index, msg, true, votes_cost(x, t));
    free(msg);
}

void consensus_dispatch(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    task_exec_t *x = &run->exec[i];
    x->spend_refused_usd = 0;
    free(x->spend_note);
    x->spend_note = NULL;
    task_scope_t sc;
    task_scope_init(&sc, run, i);
    json_t *question = NULL, *inputs = NULL;
    expr_error_t err;
    if ((t->question.src && tmpl_render_str(t->question.src, &sc.local, &question, &err)) ||
        tmpl_render_value(t->inputs, &sc.local, &inputs, &err)) {
        task_scope_free(&sc);
        json_decref(question);
        char *msg = xasprintf("template: %s", err.message);
        task_attempt_failed(run, i, msg, false, 0);
        free(msg);
        return;
    }
    task_scope_free(&sc);
    char *q = question ? expr_format(question) : xstrdup(t->name);
    json_decref(question);
    free(x->question);
    x->question = xstrdup(q);
    char *options = json_dumps(t->options, JSON_COMPACT);
    char *task_prompt =
        xasprintf("Vote on this question: %s\nChoose exactly one of the options "
                  "%s. Answer with JSON {decision, confidence (0 to 1), rationale}.",
                  q, options);
    json_t *schema = vote_schema(t->options);

    size_t n = t->n_consensus_agents;
    json_decref(x->votes);
    x->votes = json_array();
    for (size_t k = 0; k < n; k++) json_array_append_new(x->votes, json_null());
    x->vote_calls = xcalloc(n, sizeof *x->vote_calls);
    vote_ctx_t *ctx = x->vote_ctx = xcalloc(n, sizeof *ctx);
    x->votes_pending = n;
    const task_state_t *ts = &run->st.tasks[i];
    const json_t *model = run_task_model(run, i);
    /* The votes share what the spending limits leave: each may use its part of it. */
    double room = 0;
    bool capped = run_spend_room(run, &room);
    for (size_t k = 0; k < n; k++) {
        const wf_agent_t *a = t->consensus_agent_refs[k];
        ctx[k] = (vote_ctx_t){x, k, 0};
        char *system = NULL, *user = NULL;
        prompt_compose(t, a, task_prompt, inputs, NULL, ts->guidance_used, NULL, NULL, &system,
                       &user);
        llm_request_t req = {
            .run_id = run->st.run_id,
            .task_id = t->id,
            .attempt = ts->attempt,
            .iteration = ts->iteration,
            .agent = a,
            .system = system,
            .prompt = user,
            .inputs = inputs,
            .model = model ? model : a->model,
            .format = OUTPUT_JSON,
            .schema = schema,
            .max_tokens = a->max_tokens,
            .temperature = a->temperature,
            .cost_capped = capped,
            .max_cost_usd = room / (double)n,
        };
        x->vote_calls[k] = provider_call(run->eng->o.provider, &req, vote_done, &ctx[k]);
        free(system);
        free(user);
    }
    x->timer_is_deadline =
        t->deadline_s > 0 && (t->timeout_s <= 0 || t->deadline_s <= t->timeout_s);
    double wait_s = x->timer_is_deadline ? t->deadline_s : t->timeout_s;
    if (wait_s > 0) task_timer_start(run, i, (uint64_t)(wait_s * 1000.0), timer_fire);
    json_decref(schema);
    json_decref(inputs);
    free(task_prompt);
    free(options);
    free(q);
}

static void tally(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    task_exec_t *x = &run->exec[i];
    if (x->timer_ready) uv_timer_stop(&x->timer);
    double cost = votes_cost(x, t);
    consensus_cancel(run, i); /* stops votes still out at the deadline */
    if (x->spend_note) {
        /* Votes the spending limits refused: the votes that came in are paid for (an
         * informational event carries their cost to the run), and on_exceed decides: fail or
         * pause the run, or ask again on a cheaper tier. */
        if (cost > 0)
            run_emit(run, "consensus.discarded",
                     json_pack("{s:s, s:f, s:s}", "task", t->id, "cost_usd", cost, "reason",
                               x->spend_note));
        int stopped = run_budget_refused(run, i, x->spend_refused_usd, x->spend_note);
        if (!stopped)
            consensus_dispatch(run, i);
        else if (run->st.status == RS_PAUSED)
            run_queue_attempt(run, i, run->st.tasks[i].attempt, run->st.tasks[i].iteration);
        return;
    }

    size_t n_opt = json_array_size(t->options);
    double *weight = xcalloc(n_opt ? n_opt : 1, sizeof *weight);
    size_t *count = xcalloc(n_opt ? n_opt : 1, sizeof *count);
    size_t cast = 0;
    double total = 0;
    size_t k;
    json_t *v;
    json_array_foreach(x->votes, k, v) {
        if (json_is_null(v)) continue;
        const char *d = json_string_value(json_object_get(v, "decision"));
        double conf = json_number_value(json_object_get(v, "confidence"));
        for (size_t o = 0; o < n_opt; o++)
            if (!strcmp(d, json_string_value(json_array_get(t->options, o)))) {
                count[o]++;
                weight[o] += conf;
            }
        cast++;
        total += conf;
    }
    /* Strictly greater keeps the earliest option on ties. */
    size_t best = 0;
    for (size_t o = 1; o < n_opt; o++) {
        bool better =
            t->method == CONSENSUS_WEIGHTED ? weight[o] > weight[best] : count[o] > count[best];
        if (better) best = o;
    }
    bool reached = false;
    double confidence = 0;
    if (cast > 0) {
        switch (t->method) {
        case CONSENSUS_MAJORITY:
            reached = count[best] * 2 > cast;
            break;
        case CONSENSUS_UNANIMOUS:
            reached = count[best] == cast;
            break;
        case CONSENSUS_WEIGHTED:
            reached = total > 0 && weight[best] * 2 > total;
            break;
        }
        confidence = t->method == CONSENSUS_WEIGHTED ? (total > 0 ? weight[best] / total : 0)
                                                     : (double)count[best] / (double)cast;
    }
    const char *decision = cast ? json_string_value(json_array_get(t->options, best)) : NULL;
    json_t *outputs =
        json_pack("{s:b, s:s?, s:f, s:O, s:i, s:i}", "consensus", reached, "decision",
                  reached ? decision : NULL, "confidence", confidence, "votes", x->votes,
                  "votes_cast", (int)cast, "abstentions", (int)(t->n_consensus_agents - cast));
    free(weight);
    free(count);
    if (reached) {
        task_attempt_succeeded(run, i, decision, outputs, cost, false);
        return;
    }
    switch (t->on_no_consensus) {
    case NO_CONSENSUS_CONTINUE:
        task_attempt_succeeded(run, i, NULL, outputs, cost, false);
        return;
    case NO_CONSENSUS_FAIL: {
        json_decref(outputs);
        char *msg =
            xasprintf("no consensus among %zu votes (%zu cast)", t->n_consensus_agents, cast);
        task_attempt_failed(run, i, msg, false, cost);
        free(msg);
        return;
    }
    case NO_CONSENSUS_HUMAN: {
        char *title = xasprintf("No consensus: %s", x->question ? x->question : t->name);
        json_t *req = json_pack("{s:s, s:s, s:O, s:o, s:f, s:f}", "kind", "decision", "title",
                                title, "options", t->options, "consensus", outputs, "cost_usd",
                                cost, "timeout_s", t->human_timeout_s);
        free(title);
        human_request(run, i, req);
        return;
    }
    }
}

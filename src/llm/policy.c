/* policy.c - candidate order per routing policy (see policy.h). */
#include "llm/policy.h"

#include <string.h>

static const char *const names[] = {"local-first", "ordered", "cost", "latency", "score"};

bool policy_parse(const char *name, policy_t *out) {
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (name && !strcmp(name, names[i])) {
            *out = (policy_t)i;
            return true;
        }
    return false;
}

const char *policy_name(policy_t p) { return names[p]; }

const char *policy_names(void) { return "local-first, ordered, cost, latency, score"; }

double policy_score(const policy_view_t *v, size_t n, size_t i) {
    double fastest = -1, dearest = 0;
    for (size_t k = 0; k < n; k++) {
        if (v[k].latency_ms > 0 && (fastest < 0 || v[k].latency_ms < fastest))
            fastest = v[k].latency_ms;
        if (v[k].cost_usd > dearest) dearest = v[k].cost_usd;
    }
    double latency_score = v[i].latency_ms > 0 && fastest > 0 ? fastest / v[i].latency_ms : 1.0;
    double relative_cost = dearest > 0 ? v[i].cost_usd / dearest : 0.0;
    return 0.5 * v[i].success * latency_score + 0.3 * (1.0 - relative_cost) +
           0.2 * v[i].availability;
}

/* The sort key: smaller goes first. */
static double key(policy_t p, const policy_view_t *v, size_t n, size_t i) {
    switch (p) {
    case POLICY_LOCAL_FIRST:
        return v[i].local ? 0 : 1;
    case POLICY_COST:
        return v[i].cost_usd;
    case POLICY_LATENCY:
        return v[i].latency_ms < 0 ? -1 : v[i].latency_ms;
    case POLICY_SCORE:
        return -policy_score(v, n, i);
    case POLICY_ORDERED:
        break;
    }
    return 0;
}

void policy_order(policy_t p, const policy_view_t *views, size_t n, size_t *order) {
    double keys[n ? n : 1];
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        keys[i] = key(p, views, n, i);
    }
    /* Insertion sort: stable, and a request has a handful of candidates. */
    for (size_t i = 1; i < n; i++) {
        size_t o = order[i];
        size_t j = i;
        while (j > 0 && keys[order[j - 1]] > keys[o]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
}

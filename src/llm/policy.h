/* policy.h - the order in which a call tries its candidates (routing.policy).
 *
 * Pure: given what the router knows about each candidate of one request, returns the order to
 * try them in. Every policy is a stable sort, so candidates that compare equal keep the order
 * the tier or the agent listed them in.
 *   local-first  local candidates first (the default)
 *   ordered      exactly as listed
 *   cost         cheapest estimated cost for this request first
 *   latency      lowest recent mean latency first; a candidate never measured goes first, so
 *                it gets measured (LiteLLM's latency routing does the same)
 *   score        highest 0.5·success·latency_score + 0.3·(1 − relative_cost) + 0.2·availability
 *                (DESIGN.md section 2): latency_score = fastest / own latency, relative_cost =
 *                own / dearest estimate, availability 1 closed, 0.5 half-open, 0 open.
 *
 * Ownership: nothing is allocated or kept. views (n entries) is borrowed for the call; order is
 * the caller's array of n entries, filled with a permutation of 0..n-1. The names returned by
 * policy_name and policy_names are static strings, never freed.
 * Threading: pure functions without state: safe from any thread. */
#ifndef BATON_LLM_POLICY_H
#define BATON_LLM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    POLICY_LOCAL_FIRST,
    POLICY_ORDERED,
    POLICY_COST,
    POLICY_LATENCY,
    POLICY_SCORE
} policy_t;

typedef struct policy_view {
    bool local;
    double cost_usd;     /* this request's estimated cost on the candidate */
    double latency_ms;   /* recent mean latency, < 0 when never measured */
    double success;      /* recent success rate in [0,1] */
    double availability; /* 1 closed, 0.5 half-open, 0 open */
} policy_view_t;

/* Parses a routing.policy name; returns false for an unknown one. */
bool policy_parse(const char *name, policy_t *out);
const char *policy_name(policy_t p);
const char *policy_names(void); /* "local-first, ordered, cost, latency, score" */

/* order[0..n) receives indices into views, best first. */
void policy_order(policy_t p, const policy_view_t *views, size_t n, size_t *order);

/* The score policy's value for views[i] among views (exposed for `providers ls` and tests). */
double policy_score(const policy_view_t *views, size_t n, size_t i);

#endif

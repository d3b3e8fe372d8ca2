/* config_keys.c - every key of the configuration, once: its type, default and meaning.
 *
 * To add a key: add a row to the array of its section below (keep the {0} at the end), read it
 * where it is used, and add a line to docs/configuration.md (tests/unit/test_config.c fails when
 * the docs miss a key). The checker (config.c) and `baton config show` need nothing more. */
#include "core/config.h"

#define END                                                                                        \
    { 0 }

static const char *const PROVIDER_TYPES[] = {"openai", "anthropic", "gemini", "ollama", NULL};
static const char *const POLICIES[] = {"local-first", "ordered", "cost", "latency", "score", NULL};
static const char *const MODES[] = {"live", "record", "replay", NULL};

/* ---- providers ---- */

static const config_key_t MODEL_PRICES[] = {
    {"input_per_million", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD per million input (prompt) tokens"},
    {"output_per_million", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD per million output tokens (ignored for embedding models)"},
    {"cached_input_per_million", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD per million input tokens read from the provider's prompt cache"},
    END};

static const config_key_t MODEL = {"MODEL", CONFIG_MAP, .keys = MODEL_PRICES,
                                   .doc = "a model of this provider and its prices"};

static const config_key_t TIMEOUTS[] = {
    {"connect", CONFIG_DURATION, .flags = CONFIG_NONNEG, .dflt = "10s",
     .doc = "time to open the connection"},
    {"first_byte", CONFIG_DURATION, .flags = CONFIG_NONNEG, .dflt = "60s",
     .doc = "time from sending the request to the first byte of the answer"},
    {"total", CONFIG_DURATION, .flags = CONFIG_NONNEG, .dflt = "10m",
     .doc = "time for the whole call"},
    END};

static const config_key_t LIMITS[] = {
    {"concurrency", CONFIG_INT, .flags = CONFIG_NONNEG,
     .doc = "calls in flight at once (0: no limit)"},
    {"requests_per_minute", CONFIG_NUMBER, .flags = CONFIG_NONNEG,
     .doc = "calls started per minute (0: no limit)"},
    {"tokens_per_minute", CONFIG_NUMBER, .flags = CONFIG_NONNEG,
     .doc = "estimated tokens per minute (0: no limit)"},
    {"queue_timeout", CONFIG_DURATION, .flags = CONFIG_NONNEG, .dflt = "60s",
     .doc = "how long a call may wait for its turn before the next candidate is tried"},
    END};

static const config_key_t PROVIDER_KEYS[] = {
    {"type", CONFIG_ENUM, .choices = PROVIDER_TYPES, .flags = CONFIG_REQUIRED,
     .doc = "the API it speaks"},
    {"base_url", CONFIG_STRING, .flags = CONFIG_URL,
     .doc = "the API's address, http:// or https:// (or base_url_env)"},
    {"base_url_env", CONFIG_STRING,
     .doc = "a variable holding the address (host:port or a URL); unset: provider disabled"},
    {"api_key_env", CONFIG_STRING,
     .doc = "the variable holding the API key; unset: provider disabled; absent: no auth header"},
    {"local", CONFIG_BOOL, .dflt = "false", .doc = "local-first routing tries it first"},
    {"optional", CONFIG_BOOL, .dflt = "false",
     .doc = "say nothing when its variable is not set (the shipped defaults)"},
    {"timeouts", CONFIG_MAP, .keys = TIMEOUTS, .doc = "per-call time limits"},
    {"limits", CONFIG_MAP, .keys = LIMITS, .flags = CONFIG_OPT_IN,
     .doc = "rate limits shared by its models (absent: none)"},
    {"models", CONFIG_MAP, .other = &MODEL, .doc = "its models, by name, with their prices"},
    END};

static const config_key_t PROVIDER = {"NAME", CONFIG_MAP, .keys = PROVIDER_KEYS,
                                      .doc = "a provider; its models are NAME/MODEL"};

static const config_key_t OFFLINE_PRICE[] = {
    {"input_per_million", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD per million input tokens"},
    {"output_per_million", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD per million output tokens"},
    END};

static const config_key_t FAIL_ATTEMPTS = {"TASK", CONFIG_INT, .flags = CONFIG_NONNEG,
                                           .doc = "attempts 1..N of this task fail"};

static const config_key_t OFFLINE_KEYS[] = {
    {"latency_ms", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "how long each answer takes"},
    {"price", CONFIG_MAP, .keys = OFFLINE_PRICE, .doc = "what its tokens cost (for tests)"},
    {"fail_attempts", CONFIG_MAP, .other = &FAIL_ATTEMPTS,
     .doc = "{TASK: N}: make a task's first N attempts fail (for tests)"},
    END};

static const config_key_t PROVIDERS[] = {{"offline", CONFIG_MAP, .keys = OFFLINE_KEYS,
                                          .doc = "the built-in offline model, offline/offline-1"},
                                         END};

/* ---- tiers, routing, cache ---- */

static const config_key_t TIER_ENTRY = {"MODEL", CONFIG_STRING, .flags = CONFIG_MODEL_ID,
                                        .doc = "provider/model"};
static const config_key_t TIER = {"TIER", CONFIG_LIST, .item = &TIER_ENTRY,
                                  .doc = "candidates, provider/model, in order"};

static const config_key_t BREAKER[] = {
    {"failures", CONFIG_INT, .flags = CONFIG_POSITIVE, .dflt = "5",
     .doc = "consecutive failures that open a model's breaker"},
    {"cooldown", CONFIG_DURATION, .flags = CONFIG_NONNEG, .dflt = "30s",
     .doc = "how long it stays open before one trial call"},
    END};

static const config_key_t ROUTING[] = {
    {"policy", CONFIG_ENUM, .choices = POLICIES, .dflt = "local-first",
     .doc = "the order candidates are tried in"},
    {"breaker", CONFIG_MAP, .keys = BREAKER, .doc = "the circuit breaker of each model"},
    {"mode", CONFIG_ENUM, .choices = MODES, .dflt = "live",
     .doc = "live, record answers, or replay them (--llm-mode)"},
    {"recordings", CONFIG_STRING, .dflt = "DATA_DIR/recordings.json",
     .doc = "the recordings file (--recordings)"},
    {"reference_model", CONFIG_STRING, .keys = MODEL_PRICES, .flags = CONFIG_MODEL_ID,
     .doc = "provider/model, or prices: what calls would have cost there (savings)"},
    END};

static const config_key_t CACHE[] = {
    {"enabled", CONFIG_BOOL, .dflt = "false", .doc = "answer repeated requests from the cache"},
    {"ttl", CONFIG_DURATION, .flags = CONFIG_POSITIVE, .dflt = "24h",
     .doc = "an older answer is never served"},
    {"include_nonzero_temperature", CONFIG_BOOL, .dflt = "false",
     .doc = "cache requests with a temperature above 0 too"},
    {"max_entries", CONFIG_INT, .flags = CONFIG_POSITIVE, .dflt = "10000",
     .doc = "answers kept, newest first"},
    END};

/* ---- budgets, retention, tools ---- */

static const config_key_t WORKFLOW_BUDGET_KEYS[] = {
    {"daily_usd", CONFIG_NUMBER, .flags = CONFIG_NONNEG | CONFIG_REQUIRED,
     .doc = "USD the runs of this workflow may spend per day"},
    END};

static const config_key_t WORKFLOW_BUDGET = {"WORKFLOW", CONFIG_MAP, .keys = WORKFLOW_BUDGET_KEYS,
                                             .doc = "the daily budget of one workflow, by name"};

static const config_key_t BUDGETS[] = {
    {"daily_usd", CONFIG_NUMBER, .flags = CONFIG_NONNEG, .dflt = "0",
     .doc = "USD all runs may spend per day (since local midnight); 0: no limit"},
    {"workflows", CONFIG_MAP, .other = &WORKFLOW_BUDGET, .doc = "daily budgets per workflow"},
    END};

static const config_key_t RETENTION[] = {
    {"runs", CONFIG_DURATION, .flags = CONFIG_POSITIVE,
     .doc = "how long completed and cancelled runs are kept (absent: for ever)"},
    {"keep_failed", CONFIG_DURATION, .flags = CONFIG_POSITIVE,
     .doc = "how long failed runs are kept (absent: for ever)"},
    END};

static const char *const HTTP_METHODS[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL};
static const config_key_t HTTP_METHOD = {"METHOD", CONFIG_ENUM, .choices = HTTP_METHODS};
/* A host entry: a string allows reads (GET, HEAD); {host, methods} also the writes it lists
 * (engine/tools.h; tools_config_check checks the rest, such as an empty methods list). */
static const config_key_t HOST_ENTRY[] = {
    {"host", CONFIG_STRING, .flags = CONFIG_REQUIRED, .doc = "host, host:port or *.domain"},
    {"methods", CONFIG_LIST, .item = &HTTP_METHOD, .doc = "the methods allowed to that host"},
    END};
static const config_key_t HOST = {"HOST", CONFIG_STRING, .keys = HOST_ENTRY,
                                  .doc = "host, host:port or *.domain, or {host, methods}"};

static const config_key_t HTTP_FETCH[] = {
    {"allow_hosts", CONFIG_LIST, .item = &HOST, .dflt = "[]",
     .doc = "hosts http_fetch may reach; nothing is allowed without it"},
    {"max_bytes", CONFIG_INT, .flags = CONFIG_POSITIVE, .max = 64 * 1024 * 1024, .dflt = "262144",
     .doc = "the body is cut there"},
    {"timeout", CONFIG_DURATION, .flags = CONFIG_POSITIVE, .dflt = "10s",
     .doc = "the whole request"},
    {"allow_private", CONFIG_BOOL, .dflt = "false",
     .doc = "a host allowed by name may resolve to a private address"},
    END};

static const config_key_t TOOLS[] = {
    {"http_fetch", CONFIG_MAP, .keys = HTTP_FETCH, .doc = "the http_fetch tool"}, END};

/* ---- the sections ---- */

static const config_key_t SECTIONS[] = {
    {"providers", CONFIG_MAP, .keys = PROVIDERS, .other = &PROVIDER,
     .doc = "model providers, by name (absent: config/defaults.yaml's)"},
    {"tiers", CONFIG_MAP, .other = &TIER,
     .doc = "what model: fast|balanced|best|local|embedding (or any name) means"},
    {"routing", CONFIG_MAP, .keys = ROUTING, .doc = "how the router picks and tries candidates"},
    {"cache", CONFIG_MAP, .keys = CACHE, .doc = "the response cache"},
    {"budgets", CONFIG_MAP, .keys = BUDGETS, .doc = "daily spending limits"},
    {"retention", CONFIG_MAP, .keys = RETENTION,
     .doc = "how long finished runs are kept (baton admin sweep, baton serve)"},
    {"tools", CONFIG_MAP, .keys = TOOLS, .doc = "settings of the built-in tools"},
    END};

const config_key_t config_schema = {"", CONFIG_MAP, .keys = SECTIONS, .doc = "the configuration"};

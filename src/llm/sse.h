/* sse.h - Server-Sent Events framing, as the model providers stream (WHATWG event-stream):
 * bytes are fed as they arrive, and each complete event (a blank line ends it) is handed over
 * with its `event:` type (NULL when it has none) and its `data:` lines joined with newlines.
 * Carriage returns are dropped on the way in, so CRLF streams (Google's) and JSON error bodies
 * both stay readable in `raw`, which keeps every byte received. */
#ifndef BATON_LLM_SSE_H
#define BATON_LLM_SSE_H

#include "util/strbuf.h"

typedef void (*sse_event_fn)(void *ud, const char *event, const char *data);

/* raw: what was received so far; parsed: how much of it is consumed (both owned by the
 * caller, zero-initialised at the start). Events without data are skipped. */
void sse_feed(strbuf_t *raw, size_t *parsed, const char *data, size_t len, sse_event_fn fn,
              void *ud);

#endif

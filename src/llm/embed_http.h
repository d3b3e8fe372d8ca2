/* embed_http.h - one embedding call over HTTP, for any of the wire formats of embed_wire.h:
 * POST the body, read the one JSON answer, hand back the vectors with their tokens and cost.
 *
 * Promises: the call keeps provider.h's promises (done exactly once, never inside the call,
 * nothing after cancel); failures are worded and classified by the protocol's own
 * http_status_error_fn (the same as its chat calls) or http_provider_transport_error, and
 * reported through http_provider_fail; an answer that embed_wire_parse refuses is
 * LLM_ERR_MALFORMED. Input tokens are the server's count, or an estimate (llm_estimate_tokens
 * of every text) when it reports none; cost is input tokens at the input price. The call object
 * starts with the http_provider_t pointer and the http_call_t, so the provider's usual cancel
 * stops it. */
#ifndef BATON_LLM_EMBED_HTTP_H
#define BATON_LLM_EMBED_HTTP_H

#include "llm/embed_wire.h"
#include "llm/http_provider.h"

/* Starts the call to base_url + path (copied). */
llm_call_t *embed_http_call(http_provider_t *p, const llm_request_t *req, llm_done_fn done,
                            void *ud, embed_wire_t wire, const char *path,
                            http_status_error_fn status_error);

#endif

/* providers.h - the HTTP provider types a configuration may name (`type:` of a provider). */
#ifndef BATON_LLM_PROVIDERS_H
#define BATON_LLM_PROVIDERS_H

#include "llm/http_provider.h"

typedef llm_provider_t *(*provider_ctor_fn)(http_client_t *http, const http_provider_opts_t *o);

/* The constructor for a type, or NULL when this build does not speak it. */
provider_ctor_fn provider_ctor(const char *type);

/* "openai, anthropic, ...": for error messages. */
const char *provider_types(void);

#endif

/* providers.c - the registry of HTTP provider types. One line per wire protocol. */
#include "llm/anthropic.h"
#include "llm/gemini.h"
#include "llm/ollama.h"
#include "llm/openai.h"
#include "llm/providers.h"

#include <string.h>

static const struct {
    const char *type;
    provider_ctor_fn ctor;
} TYPES[] = {
    {"openai", openai_provider_new},       /* Chat Completions: OpenAI, vLLM, llama.cpp, ... */
    {"anthropic", anthropic_provider_new}, /* Messages */
    {"gemini", gemini_provider_new},       /* generateContent (streamGenerateContent, SSE) */
    {"ollama", ollama_provider_new},       /* Ollama native /api/chat (NDJSON) */
};

provider_ctor_fn provider_ctor(const char *type) {
    for (size_t i = 0; type && i < sizeof TYPES / sizeof *TYPES; i++)
        if (!strcmp(TYPES[i].type, type)) return TYPES[i].ctor;
    return NULL;
}

const char *provider_types(void) { return "openai, anthropic, gemini, ollama"; }

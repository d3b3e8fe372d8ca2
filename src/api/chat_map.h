/* chat_map.h - an OpenAI chat completion request (its JSON body) as Baton's request parts:
 * system and developer messages make the system prompt; the last user message is the prompt,
 * with the turns before it written above it as the conversation so far; assistant tool calls
 * and tool results after it are the tool transcript; `tools` the tools offered; response_format
 * json_object / json_schema ask for JSON; max_completion_tokens (or max_tokens, default 1024)
 * and temperature (default 1) pass through. Other fields are ignored. */
#ifndef BATON_API_CHAT_MAP_H
#define BATON_API_CHAT_MAP_H

#include "core/workflow.h"

#include <jansson.h>
#include <stddef.h>

typedef struct chat_map {
    char *system, *prompt; /* never NULL after a successful read */
    json_t *transcript;    /* an array (maybe empty) */
    json_t *tools;         /* [{name, description, parameters}] or NULL */
    json_t *schema;        /* response_format.json_schema.schema, or NULL */
    output_format_t format;
    int max_tokens;
    double temperature;
} chat_map_t;

/* 0, or -1 with a message for the client in err (the request is not one). chat_map_free
 * either way. */
int chat_map_read(const json_t *body, chat_map_t *c, char *err, size_t errlen);
void chat_map_free(chat_map_t *c);

#endif

#include "util/redact.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { REDACT_MIN_SECRET = 6 };

static bool key_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }
/* What a token of a header or a query value is made of (base64, URL-safe base64, JWT dots). */
static bool token_char(char c) { return isalnum((unsigned char)c) || strchr("._~+/=-", c) != NULL; }
static bool word_start(const char *text, const char *p) { return p == text || !key_char(p[-1]); }

static size_t run_of(const char *p, bool (*is)(char)) {
    size_t n = 0;
    while (p[n] && is(p[n])) n++;
    return n;
}

/* The length of a key shape starting at p (0: none), and in *skip how much of it is kept (the
 * "Bearer " or "x-api-key: " before the secret). */
static size_t shape_at(const char *text, const char *p, size_t *skip) {
    *skip = 0;
    if (!word_start(text, p)) return 0;
    if (!strncmp(p, "sk-", 3)) {
        size_t n = run_of(p + 3, key_char);
        return n >= 8 ? 3 + n : 0;
    }
    if (!strncmp(p, "AIza", 4)) {
        size_t n = run_of(p + 4, key_char);
        return n >= 20 ? 4 + n : 0;
    }
    if (!strncasecmp(p, "bearer", 6) && (p[6] == ' ' || p[6] == '\t')) {
        size_t k = 6;
        while (p[k] == ' ' || p[k] == '\t') k++;
        size_t n = run_of(p + k, token_char);
        *skip = k;
        return n >= 8 ? k + n : 0; /* a token, not prose ("Bearer of bad news") */
    }
    static const char *const names[] = {"x-goog-api-key", "x-api-key", "api-key",
                                        "api_key",        "apikey",    NULL};
    for (size_t i = 0; names[i]; i++) {
        size_t l = strlen(names[i]);
        if (strncasecmp(p, names[i], l)) continue;
        size_t k = l;
        if (p[k] == '"' || p[k] == '\'') k++;
        while (p[k] == ' ') k++;
        if (p[k] != ':' && p[k] != '=') return 0;
        k++;
        while (p[k] == ' ' || p[k] == '"' || p[k] == '\'') k++;
        size_t n = run_of(p + k, token_char);
        *skip = k;
        return n ? k + n : 0;
    }
    return 0;
}

/* A query parameter key=VALUE after '?' or '&' (Gemini's ?key=AIza...). */
static size_t query_key_at(const char *p, size_t *skip) {
    *skip = 0;
    if ((*p != '?' && *p != '&') || strncmp(p + 1, "key=", 4)) return 0;
    size_t n = 0;
    while (p[5 + n] && token_char(p[5 + n]) && p[5 + n] != '&') n++;
    *skip = 5;
    return n ? 5 + n : 0;
}

char *redact_with(const char *text, const char *const *secrets) {
    if (!text) return NULL;
    strbuf_t out = {0};
    const char *p = text;
    while (*p) {
        size_t len = 0, skip = 0;
        for (size_t i = 0; secrets && secrets[i]; i++) {
            size_t l = strlen(secrets[i]);
            if (l >= REDACT_MIN_SECRET && l > len && !strncmp(p, secrets[i], l)) len = l;
        }
        if (!len) len = shape_at(text, p, &skip);
        if (!len) len = query_key_at(p, &skip);
        if (len) {
            sb_append(&out, p, skip);
            sb_puts(&out, REDACT_MARKER);
            p += len;
        } else {
            sb_putc(&out, *p++);
        }
    }
    return sb_take(&out);
}

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static char **reg;
static size_t reg_n;

void redact_register(const char *value) {
    if (!value || !*value) return;
    pthread_mutex_lock(&reg_lock);
    bool known = false;
    for (size_t i = 0; i < reg_n && !known; i++) known = !strcmp(reg[i], value);
    if (!known) {
        reg = xrealloc(reg, (reg_n + 2) * sizeof *reg);
        reg[reg_n++] = xstrdup(value);
        reg[reg_n] = NULL;
    }
    pthread_mutex_unlock(&reg_lock);
}

char *redact_text(const char *text) {
    pthread_mutex_lock(&reg_lock);
    char *r = redact_with(text, (const char *const *)reg);
    pthread_mutex_unlock(&reg_lock);
    return r;
}

void redact_reset(void) {
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < reg_n; i++) free(reg[i]);
    free(reg);
    reg = NULL;
    reg_n = 0;
    pthread_mutex_unlock(&reg_lock);
}

#include "core/quality.h"
#include "core/jsonschema.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t quality_word_count(const char *text) {
    size_t n = 0;
    bool in_word = false;
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        bool space = isspace(*p);
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}

static bool is_refusal(const char *text) {
    static const char *const openings[] = {
        "i cannot", "i can't",    "i can not",   "i'm sorry", "i am sorry",
        "as an ai", "i'm unable", "i am unable", "i won't",
    };
    while (*text && isspace((unsigned char)*text)) text++;
    for (size_t i = 0; i < sizeof openings / sizeof *openings; i++)
        if (!strncasecmp(text, openings[i], strlen(openings[i]))) return true;
    return false;
}

/* More than half of the non-empty lines are copies of one line. */
static bool is_repetitive(const char *text) {
    size_t lines = 0, best = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0) {
            lines++;
            size_t same = 0;
            const char *q = text;
            while (*q) {
                const char *qe = strchr(q, '\n');
                size_t qlen = qe ? (size_t)(qe - q) : strlen(q);
                if (qlen == len && !memcmp(p, q, len)) same++;
                q = qe ? qe + 1 : q + qlen;
            }
            if (same > best) best = same;
            if (lines > 200) break; /* enough to judge; keeps the check bounded */
        }
        p = e ? e + 1 : p + len;
    }
    return lines >= 4 && best * 2 > lines;
}

double quality_score(const char *text, output_format_t format, const json_t *schema, int word_limit,
                     char *why, size_t whylen) {
    double score = 1.0;
    size_t used = 0;
    why[0] = '\0';
#define FAIL(cost, msg)                                                                            \
    do {                                                                                           \
        score -= (cost);                                                                           \
        used += (size_t)snprintf(why + used, used < whylen ? whylen - used : 0, "%s%s",            \
                                 used ? "; " : "", (msg));                                         \
        if (used >= whylen) used = whylen - 1;                                                     \
    } while (0)
    if (!text || !*text || quality_word_count(text) == 0) {
        snprintf(why, whylen, "empty output");
        return 0.0;
    }
    if (format == OUTPUT_JSON) {
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        char err[256];
        if (!v)
            FAIL(0.5, "not valid JSON");
        else if (schema && jsonschema_validate(schema, v, err, sizeof err) != 0)
            FAIL(0.4, err);
        json_decref(v);
    }
    if (word_limit > 0 && quality_word_count(text) > (size_t)word_limit)
        FAIL(0.2, "over the word limit");
    if (is_refusal(text)) FAIL(0.6, "reads as a refusal");
    if (is_repetitive(text)) FAIL(0.3, "repetitive");
#undef FAIL
    return score < 0 ? 0 : score;
}

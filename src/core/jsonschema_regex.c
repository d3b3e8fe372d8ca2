/* jsonschema_regex.c - PCRE2 for jsonschema_regex.h: the options that bring it near ECMA-262, the
 * process-wide cache of compiled patterns, and the limits on matching. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/jsonschema_regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ECMA-262 without flags, as near as PCRE2 gets:
 *  - UTF: the subject and the pattern are code points, not bytes ("." eats one character);
 *  - DOLLAR_ENDONLY: `$` matches at the very end only, not before a final newline;
 *  - ALLOW_EMPTY_CLASS: `[]` matches nothing and `[^]` any character;
 *  - ALT_BSUX (+ EXTRA_ALT_BSUX): \uHHHH, \u{H...} and \xHH as ECMAScript reads them;
 *  - MATCH_UNSET_BACKREF: a backreference to a group that did not take part matches empty;
 *  - NEVER_BACKSLASH_C: \C (one byte) would split UTF-8 characters;
 *  - newline ANY: "." stops at CR, LF, U+2028 and U+2029 as in ECMAScript (and also at VT, FF
 *    and U+0085, which ECMAScript's "." matches).
 * No UCP: \d, \w and \b stay ASCII as in ECMAScript (\s is ASCII too, which is narrower). With
 * PCRE2 10.43 and later UCP is on with \d and \w kept ASCII, which makes \s Unicode as well. */
#if PCRE2_MAJOR > 10 || (PCRE2_MAJOR == 10 && PCRE2_MINOR >= 43)
#define UCP_OPTIONS PCRE2_UCP
#define UCP_EXTRA   (PCRE2_EXTRA_ASCII_BSD | PCRE2_EXTRA_ASCII_BSW | PCRE2_EXTRA_ASCII_POSIX)
#else
#define UCP_OPTIONS 0
#define UCP_EXTRA   0
#endif
#define COMPILE_OPTIONS                                                                            \
    (PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_ALT_BSUX |                 \
     PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_BACKSLASH_C | UCP_OPTIONS)

/* A value is checked against a pattern in well under a second even at the limit; past it the
 * answer is "could not be checked", never "matches". */
#define MATCH_LIMIT    1000000
#define HEAP_LIMIT_KIB (16 * 1024)

typedef struct entry {
    char *pat;
    size_t len;
    pcre2_code *code;
} entry_t;

/* Open addressing, twice as many slots as entries so probes stay short; never evicted. */
#define SLOTS (2 * JSONSCHEMA_REGEX_CACHE)

static struct {
    pthread_mutex_t lock;
    entry_t slots[SLOTS];
    size_t n;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t contexts_once = PTHREAD_ONCE_INIT;
static pcre2_compile_context *ccontext;
static pcre2_match_context *mcontext;

static void contexts_init(void) {
    ccontext = pcre2_compile_context_create(NULL);
    mcontext = pcre2_match_context_create(NULL);
    if (ccontext) {
        pcre2_set_newline(ccontext, PCRE2_NEWLINE_ANY);
        pcre2_set_compile_extra_options(ccontext, PCRE2_EXTRA_ALT_BSUX | UCP_EXTRA);
        pcre2_set_max_pattern_length(ccontext, JSONSCHEMA_REGEX_MAX_LEN);
    }
    if (mcontext) {
        pcre2_set_match_limit(mcontext, MATCH_LIMIT);
        pcre2_set_heap_limit(mcontext, HEAP_LIMIT_KIB);
    }
}

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static pcre2_code *compile(const char *pat, size_t len, char *why, size_t whylen) {
    pthread_once(&contexts_once, contexts_init);
    if (!ccontext || !mcontext) {
        snprintf(why, whylen, "could not be compiled: out of memory");
        return NULL;
    }
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, COMPILE_OPTIONS, &code, &off, ccontext);
    if (!re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0) strcpy((char *)msg, "error");
        snprintf(why, whylen, "does not compile: %s at offset %zu", (const char *)msg, (size_t)off);
    }
    return re;
}

/* The cached code for `pat`, compiling and caching it on first use; *owned is set when the code
 * could not be cached and the caller must free it. */
static pcre2_code *lookup(const char *pat, size_t len, bool *owned, char *why, size_t whylen) {
    *owned = false;
    bool cacheable = len <= JSONSCHEMA_REGEX_CACHE_LEN;
    size_t slot = (size_t)(hash(pat, len) % SLOTS);
    if (cacheable) {
        pthread_mutex_lock(&cache.lock);
        for (size_t i = slot; cache.slots[i].pat; i = (i + 1) % SLOTS) {
            if (cache.slots[i].len == len && !memcmp(cache.slots[i].pat, pat, len)) {
                pcre2_code *re = cache.slots[i].code;
                pthread_mutex_unlock(&cache.lock);
                return re;
            }
        }
        pthread_mutex_unlock(&cache.lock);
    }
    pcre2_code *re = compile(pat, len, why, whylen);
    if (!re) return NULL;
    if (!cacheable) {
        *owned = true;
        return re;
    }
    pthread_mutex_lock(&cache.lock);
    size_t i = slot;
    for (; cache.slots[i].pat; i = (i + 1) % SLOTS) {
        if (cache.slots[i].len == len && !memcmp(cache.slots[i].pat, pat, len)) {
            /* Another thread cached it meanwhile: use theirs. */
            pcre2_code *theirs = cache.slots[i].code;
            pthread_mutex_unlock(&cache.lock);
            pcre2_code_free(re);
            return theirs;
        }
    }
    char *copy = cache.n < JSONSCHEMA_REGEX_CACHE ? malloc(len + 1) : NULL;
    if (copy) {
        memcpy(copy, pat, len);
        copy[len] = '\0';
        cache.slots[i] = (entry_t){copy, len, re};
        cache.n++;
    } else {
        *owned = true;
    }
    pthread_mutex_unlock(&cache.lock);
    return re;
}

int jsonschema_regex_check(const char *pat, size_t len, char *why, size_t whylen) {
    bool owned;
    pcre2_code *re = lookup(pat, len, &owned, why, whylen);
    if (!re) return -1;
    if (owned) pcre2_code_free(re);
    return 0;
}

int jsonschema_regex_search(const char *pat, size_t len, const char *s, size_t slen, char *why,
                            size_t whylen) {
    bool owned;
    pcre2_code *re = lookup(pat, len, &owned, why, whylen);
    if (!re) return -1;
    /* One pair is enough: only whether it matched matters (rc 0 means "matched, no room"). */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = md ? pcre2_match(re, (PCRE2_SPTR)s, slen, 0, 0, md, mcontext) : PCRE2_ERROR_NOMEMORY;
    pcre2_match_data_free(md);
    if (owned) pcre2_code_free(re);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
        snprintf(why, whylen, "could not be checked: the match took too many steps");
    else {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(rc, msg, sizeof msg) < 0) strcpy((char *)msg, "error");
        snprintf(why, whylen, "could not be checked: %s", (const char *)msg);
    }
    return -1;
}

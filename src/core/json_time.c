/* json_time.c - RFC 3339 times at the edge (see json_time.h). */
#include "core/json_time.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm: no time zone, no libc
 * state, any year). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void json_time_format(int64_t ms, char out[JSON_TIME_LEN]) {
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rest = ms - days * 86400000;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999; /* outside RFC 3339's years: clamp */
    /* Every field is in range (rest is within one day), but the compiler cannot see it: write
     * into room for any int, then copy, so no truncation warning stands for a real one. */
    char full[64];
    int n = snprintf(full, sizeof full, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                     (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
                     (int)(rest % 1000));
    assert(n == JSON_TIME_LEN - 1);
    (void)n; /* NDEBUG builds */
    memcpy(out, full, JSON_TIME_LEN - 1);
    out[JSON_TIME_LEN - 1] = '\0';
}

json_t *json_time_string(int64_t ms) {
    char buf[JSON_TIME_LEN];
    json_time_format(ms, buf);
    return json_string(buf);
}

/* n digits at *p into *out, moving p; false when they are not there. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool json_time_parse(const char *s, int64_t *ms) {
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (!s || !digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    int64_t offset_min = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ') return false;
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
            !digits(&p, 2, &sec) || h > 23 || mi > 59 || sec > 60)
            return false;
        if (*p == '.') {
            p++;
            int n = 0, scale = 100;
            while (*p >= '0' && *p <= '9') {
                frac += (*p - '0') * scale;
                scale /= 10;
                p++;
                n++;
            }
            if (!n) return false;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
                return false;
            offset_min = sign * (oh * 60 + om);
        } else {
            return false;
        }
        if (*p) return false;
    }
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)(sec > 59 ? 59 : sec) * 1000 + frac -
          offset_min * 60000;
    return true;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

/* What people, models and the journal wrote, kept as written. */
static bool left_alone(const char *key) {
    static const char *const keys[] = {"data",   "inputs",  "outputs",  "output",    "request",
                                       "source", "details", "response", "arguments", NULL};
    for (const char *const *k = keys; *k; k++)
        if (!strcmp(*k, key)) return true;
    return false;
}

void json_time_present(json_t *v) {
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_time_present(x);
        return;
    }
    if (!json_is_object(v)) return;
    const char *key;
    json_t *x;
    void *tmp;
    json_t *renamed = NULL;
    json_object_foreach_safe(v, tmp, key, x) {
        if (json_is_integer(x) && (ends_with(key, "_at") || !strcmp(key, "at"))) {
            json_object_set_new(v, key, json_time_string(json_integer_value(x)));
        } else if ((json_is_integer(x) || json_is_null(x)) && ends_with(key, "_at_ms")) {
            if (!renamed) renamed = json_object();
            char *k = xstrndup(key, strlen(key) - 3);
            json_object_set_new(renamed, k,
                                json_is_null(x) ? json_null()
                                                : json_time_string(json_integer_value(x)));
            free(k);
            json_object_del(v, key);
        } else if (!left_alone(key)) {
            json_time_present(x);
        }
    }
    if (renamed) json_object_update(v, renamed);
    json_decref(renamed);
}

/* duration.c - "300", "90s", "5m", "1h30m", "500ms", "1.5h", "7d" -> seconds.
 *
 * The same shape as Go's time.ParseDuration (what Kubernetes and Argo users write), plus a bare
 * number meaning seconds (what the spec's `timeout: 300` means) and `d` for days, which approval
 * timeouts need. No sign, no spaces, no exponents: a duration is something people type. */
#include "core/workflow.h"

#include <math.h>
#include <string.h>

double wf_parse_duration(const char *s) {
    if (!s || !*s) return -1;
    double total = 0;
    bool any = false;
    while (*s) {
        /* number: digits with at most one '.', at least one digit */
        double whole = 0, frac = 0, scale = 1;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            whole = whole * 10 + (*s++ - '0');
            digits++;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                scale /= 10;
                frac += (*s++ - '0') * scale;
                digits++;
            }
        }
        if (!digits) return -1;
        double v = whole + frac, unit;
        if (!*s) {
            /* A bare number is seconds, but only as the whole string: "1h30" is a typo. */
            if (any) return -1;
            unit = 1;
        } else if (!strncmp(s, "ms", 2)) {
            unit = 0.001;
            s += 2;
        } else if (*s == 's' || *s == 'm' || *s == 'h' || *s == 'd') {
            unit = *s == 's' ? 1 : *s == 'm' ? 60 : *s == 'h' ? 3600 : 86400;
            s++;
        } else {
            return -1;
        }
        total += v * unit;
        any = true;
    }
    return isfinite(total) ? total : -1;
}

long wf_duration_ms(const json_t *v, long dflt) {
    double s = json_is_number(v)   ? json_number_value(v)
               : json_is_string(v) ? wf_parse_duration(json_string_value(v))
                                   : -1;
    return s >= 0 ? (long)(s * 1000) : dflt;
}

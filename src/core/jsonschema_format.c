/* jsonschema_format.c - exact checkers for the formats of jsonschema_format.h.
 *
 * Written by hand from the RFC grammars rather than as regular expressions or with a library:
 * each is a few dozen lines that read like the ABNF they follow, a regex for RFC 3986 or RFC 5321
 * is unreadable and easy to get subtly wrong, date-time needs arithmetic a regex cannot do
 * (days in February, the leap second at 23:59:60 UTC only), and no library on Debian checks these
 * four without pulling in far more than they are worth. All work on bytes: non-ASCII input is
 * invalid (that would be iri or idn-email, which Baton does not offer). */
#include "core/jsonschema_format.h"

#include <string.h>

const char *const JSONSCHEMA_FORMATS[] = {"date-time", "email", "uri", "uuid"};
const size_t JSONSCHEMA_N_FORMATS = sizeof JSONSCHEMA_FORMATS / sizeof *JSONSCHEMA_FORMATS;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n decimal digits at s, as a number; -1 when they are not all digits. */
static int digits(const char *s, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- date-time: RFC 3339 section 5.6 ------------------------------------------------------ */

static int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* date-time = full-date ("T" / "t") full-time; full-time = partial-time time-offset;
 * partial-time = time-hour ":" time-minute ":" time-second [time-secfrac];
 * time-offset = "Z" / "z" / ("+" / "-") time-hour ":" time-minute. */
static bool valid_date_time(const char *s, size_t n) {
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return false;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(s[i])) i++;
        if (i == start) return false;
    }
    int offset = 0; /* minutes east of UTC */
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i != 6 || s[i + 3] != ':') return false;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
        offset = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
        i += 6;
    } else {
        return false;
    }
    if (i != n) return false;
    /* A leap second is only ever inserted at 23:59:60 UTC (RFC 3339 section 5.7). */
    if (sec == 60 && (((h * 60 + mi - offset) % 1440) + 1440) % 1440 != 23 * 60 + 59) return false;
    return true;
}

/* ---- IP addresses, for email address literals and URI hosts ------------------------------ */

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, without leading zeros (RFC 3986). */
static bool valid_ipv4(const char *s, size_t n) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.')) return false;
        size_t start = i;
        int v = 0;
        while (i < n && is_digit(s[i]) && i - start < 3) v = v * 10 + (s[i++] - '0');
        size_t len = i - start;
        if (!len || v > 255 || (len > 1 && s[start] == '0')) return false;
    }
    return i == n;
}

/* RFC 4291 text form: eight groups of 1-4 hex digits, one "::" standing for one or more zero
 * groups, and optionally an IPv4 address in place of the last two groups. */
static bool valid_ipv6(const char *s, size_t n) {
    int groups = 0;
    bool gap = false;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = true;
        i = 2;
    } else if (n && s[0] == ':') {
        return false;
    }
    while (i < n) {
        size_t start = i;
        while (i < n && is_hex(s[i]) && i - start < 5) i++;
        size_t len = i - start;
        if (i < n && s[i] == '.') { /* the trailing IPv4 part */
            if (!valid_ipv4(s + start, n - start) || groups > 6) return false;
            groups += 2;
            i = n;
            break;
        }
        if (!len || len > 4) return false;
        groups++;
        if (i == n) break;
        if (s[i] != ':') return false;
        i++;
        if (i < n && s[i] == ':') {
            if (gap) return false;
            gap = true;
            i++;
        } else if (i == n) {
            return false; /* a single trailing ':' */
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

/* ---- email: RFC 5321 section 4.1.2 Mailbox ------------------------------------------------ */

/* atext of RFC 5322: letters, digits and !#$%&'*+-/=?^_`{|}~ */
static bool is_atext(char c) {
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]: labels of letters,
 * digits and hyphens that neither start nor end with a hyphen, 1 to 63 characters. */
static bool valid_domain(const char *s, size_t n) {
    if (!n || n > 253) return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-') return false;
            continue;
        }
        size_t len = i - start;
        if (!len || len > 63 || s[start] == '-' || s[i - 1] == '-') return false;
        start = i + 1;
    }
    return true;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ); Local-part = Dot-string /
 * Quoted-string; address-literal = "[" ( IPv4 / "IPv6:" IPv6 ) "]". */
static bool valid_email(const char *s, size_t n) {
    size_t i = 0;
    if (n && s[0] == '"') { /* Quoted-string: qtextSMTP or a backslash pair */
        for (i = 1; i < n && s[i] != '"'; i++) {
            if (s[i] == '\\') {
                if (++i >= n || s[i] < 32 || s[i] > 126) return false;
            } else if (s[i] < 32 || s[i] > 126) {
                return false;
            }
        }
        if (i >= n) return false;
        i++;
    } else { /* Dot-string = Atom *("." Atom) */
        for (; i < n && s[i] != '@'; i++) {
            if (s[i] == '.') {
                if (i == 0 || s[i - 1] == '.' || i + 1 >= n || s[i + 1] == '@') return false;
            } else if (!is_atext(s[i])) {
                return false;
            }
        }
        if (i == 0) return false;
    }
    if (i > 64 || i >= n || s[i] != '@') return false;
    const char *d = s + i + 1;
    size_t dn = n - i - 1;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        if (dn > 7 && !strncmp(d + 1, "IPv6:", 5)) return valid_ipv6(d + 6, dn - 7);
        return valid_ipv4(d + 1, dn - 2);
    }
    return valid_domain(d, dn);
}

/* ---- uri: RFC 3986 section 3, URI = scheme ":" hier-part ["?" query] ["#" fragment] -------- */

static bool is_unreserved(char c) { return is_alpha(c) || is_digit(c) || (c && strchr("-._~", c)); }
static bool is_sub_delim(char c) { return c && strchr("!$&'()*+,;=", c); }

/* Characters in [s, e) are each unreserved, sub-delims, one of `extra`, or a %HH escape. */
static bool all_of(const char *s, const char *e, const char *extra) {
    while (s < e) {
        if (*s == '%') {
            if (e - s < 3 || !is_hex(s[1]) || !is_hex(s[2])) return false;
            s += 3;
            continue;
        }
        if (!is_unreserved(*s) && !is_sub_delim(*s) && !(*s && strchr(extra, *s))) return false;
        s++;
    }
    return true;
}

/* authority = [userinfo "@"] host [":" port]; host = IP-literal / IPv4address / reg-name. */
static bool valid_authority(const char *s, const char *e) {
    const char *at = memchr(s, '@', (size_t)(e - s));
    if (at) {
        if (!all_of(s, at, ":")) return false;
        s = at + 1;
    }
    const char *port = NULL;
    if (s < e && *s == '[') { /* IP-literal = "[" ( IPv6address / IPvFuture ) "]" */
        const char *close = memchr(s, ']', (size_t)(e - s));
        if (!close) return false;
        const char *in = s + 1;
        if (in < close && (*in == 'v' || *in == 'V')) { /* "v" 1*HEXDIG "." 1*(...) */
            const char *p = in + 1;
            while (p < close && is_hex(*p)) p++;
            if (p == in + 1 || p >= close || *p != '.' || p + 1 >= close ||
                !all_of(p + 1, close, ":"))
                return false;
        } else if (!valid_ipv6(in, (size_t)(close - in))) {
            return false;
        }
        if (close + 1 < e && close[1] != ':') return false;
        if (close + 1 < e) port = close + 1;
    } else { /* reg-name (an IPv4 address is one too) */
        port = memchr(s, ':', (size_t)(e - s));
        if (!all_of(s, port ? port : e, "")) return false;
    }
    if (port)
        for (const char *p = port + 1; p < e; p++)
            if (!is_digit(*p)) return false;
    return true;
}

static bool valid_uri(const char *s, size_t n) {
    const char *e = s + n, *p = s;
    if (!n || !is_alpha(*p)) return false; /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    while (p < e && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.')) p++;
    if (p >= e || *p != ':') return false;
    p++;
    const char *q = p; /* end of hier-part */
    while (q < e && *q != '?' && *q != '#') q++;
    if (q - p >= 2 && p[0] == '/' && p[1] == '/') { /* "//" authority path-abempty */
        const char *a = p + 2, *slash = a;
        while (slash < q && *slash != '/') slash++;
        if (!valid_authority(a, slash)) return false;
        p = slash;
    }
    if (!all_of(p, q, ":@/")) return false; /* path: segments of pchar */
    if (q < e && *q == '?') {
        const char *f = memchr(q, '#', (size_t)(e - q));
        if (!all_of(q + 1, f ? f : e, ":@/?")) return false;
        q = f ? f : e;
    }
    if (q < e && !all_of(q + 1, e, ":@/?")) return false; /* fragment */
    return true;
}

/* ---- uuid: RFC 4122 section 3, 8-4-4-4-12 hex digits ---------------------------------------- */

static bool valid_uuid(const char *s, size_t n) {
    if (n != 36) return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

bool jsonschema_format_known(const char *name) {
    for (size_t i = 0; i < JSONSCHEMA_N_FORMATS; i++)
        if (!strcmp(name, JSONSCHEMA_FORMATS[i])) return true;
    return false;
}

bool jsonschema_format_valid(const char *name, const char *s, size_t len) {
    if (!strcmp(name, "date-time")) return valid_date_time(s, len);
    if (!strcmp(name, "email")) return valid_email(s, len);
    if (!strcmp(name, "uri")) return valid_uri(s, len);
    if (!strcmp(name, "uuid")) return valid_uuid(s, len);
    return false;
}

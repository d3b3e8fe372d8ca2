/* expr.c - tokenizer, recursive-descent parser and evaluator for the expressions of spec
 * section 3.
 *
 * Shape: the lexer hands the parser one token at a time; the parser builds a small AST; the
 * evaluator walks it. Binary operators of one precedence level are kept as one n-ary "chain"
 * node evaluated in a loop, so `a + b + c + ...` never deepens the tree. The tree's height, and
 * with it the recursion of eval, visit and free, is therefore bounded by the parser's nesting
 * limit (EXPR_MAX_DEPTH) times the fixed number of precedence levels.
 *
 * Choices the spec leaves open (documented here so callers can rely on them):
 *  - A name is [A-Za-z_][A-Za-z0-9_]*; a member after '.' is [A-Za-z0-9_-]+ because task ids
 *    may contain '-' and start with a digit. So `tasks.a-b` reads member "a-b", while a
 *    subtraction after a member needs spaces: `inputs.n - 1`.
 *  - `[i]` on a list takes an integer (or a whole real); negative i counts from the end.
 *    `["k"]` on an object looks the key up. Any other combination, like a member of a
 *    non-object, is a missing path and gives null.
 *  - Integer + - * that overflow 64 bits, and / that does not divide exactly, give reals. `%`
 *    truncates toward zero like C (-7 % 3 == -1). A real result that is not finite is an error.
 *  - lower/upper change ASCII letters only; trim strips ASCII whitespace. len counts code
 *    points. `x in "str"` and contains("str", x) need a string x; a null needle is a type error
 *    there (only a null haystack is simply false).
 *  - Reals format JSON-like in the shortest form that reads back exactly: 0.1, 8.5, 2.0, 150.0,
 *    1e+20 (exponent form outside 1e-5..1e17). json(x) and lists/objects use the same form.
 *  - String escapes: \n \t \r \\ \' \"; any other escape is a parse error.
 *  - Eval errors end in " at offset N" because they are reported at run time next to the
 *    expression; parse errors do not, the validator turns err.offset into line:column.
 *  - Values returned by expr_eval may share structure with the scope and with literals in the
 *    AST: callers treat them as read-only. */
#include "core/expr.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values nested deeper than this are not walked by equality or the JSON encoder. jansson's
 * own parser refuses deeper input, so real values never reach it. */
#define VALUE_MAX_DEPTH JSON_PARSER_MAX_DEPTH

/* ---------------------------------------------------------------------------------------- */
/* Tokens                                                                                    */

typedef enum tok_kind {
    T_EOF,
    T_ERR,
    T_INT,
    T_REAL,
    T_STR,
    T_NAME,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_DOT,
    T_COMMA,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_EQ,
    T_NE,
    T_IN,
    T_AND,
    T_OR,
    T_NOT,
    T_TRUE,
    T_FALSE,
    T_NULL,
} tok_kind_t;

typedef struct token {
    tok_kind_t kind;
    size_t off, end; /* positions in the parser's src */
    json_int_t ival;
    double rval;
} token_t;

/* ---------------------------------------------------------------------------------------- */
/* AST                                                                                       */

typedef enum node_kind { N_LIT, N_PATH, N_LIST, N_CALL, N_NOT, N_NEG, N_CHAIN } node_kind_t;

typedef enum fn_id { F_LEN, F_LOWER, F_UPPER, F_CONTAINS, F_DEFAULT, F_JSON, F_TRIM } fn_id_t;

static const struct {
    const char *name;
    size_t arity;
} fn_table[] = {
    [F_LEN] = {"len", 1},           [F_LOWER] = {"lower", 1},     [F_UPPER] = {"upper", 1},
    [F_CONTAINS] = {"contains", 2}, [F_DEFAULT] = {"default", 2}, [F_JSON] = {"json", 1},
    [F_TRIM] = {"trim", 1},
};
#define FN_COUNT (sizeof fn_table / sizeof fn_table[0])

typedef struct step {
    char *key; /* .member, NUL-terminated; NULL for an [index] step */
    expr_t *index;
    size_t off; /* absolute offset of the member name (of '[' for an index) */
} step_t;

typedef struct link {
    tok_kind_t op; /* operator before this operand; unused for the first */
    size_t off;    /* absolute offset of that operator */
    expr_t *operand;
} link_t;

/* One flat struct for every kind keeps construction and freeing simple; ASTs are small. */
struct expr {
    node_kind_t kind;
    size_t off;    /* absolute offset (base already added) */
    json_t *lit;   /* N_LIT: a scalar */
    char *root;    /* N_PATH: root name, or NULL when the path starts at `sub` */
    expr_t *sub;   /* N_PATH without root: the base; N_NOT/N_NEG: the operand */
    step_t *steps; /* N_PATH */
    size_t nsteps, capsteps;
    expr_t **kids; /* N_LIST items, N_CALL arguments */
    size_t nkids, capkids;
    link_t *links; /* N_CHAIN operands, at least two */
    size_t nlinks, caplinks;
    fn_id_t fn; /* N_CALL */
};

static expr_t *node_new(node_kind_t kind, size_t off) {
    expr_t *e = xcalloc(1, sizeof *e);
    e->kind = kind;
    e->off = off;
    return e;
}

/* Grows a vector by one slot and returns it zeroed. */
static void *vec_push(void **items, size_t *n, size_t *cap, size_t elem) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *items = xrealloc(*items, *cap * elem);
    }
    char *slot = (char *)*items + (*n)++ * elem;
    memset(slot, 0, elem);
    return slot;
}

static void push_kid(expr_t *e, expr_t *kid) {
    expr_t **slot = vec_push((void **)&e->kids, &e->nkids, &e->capkids, sizeof *e->kids);
    *slot = kid;
}

void expr_free(expr_t *e) {
    if (!e) return;
    json_decref(e->lit);
    free(e->root);
    expr_free(e->sub);
    for (size_t i = 0; i < e->nsteps; i++) {
        free(e->steps[i].key);
        expr_free(e->steps[i].index);
    }
    free(e->steps);
    for (size_t i = 0; i < e->nkids; i++) expr_free(e->kids[i]);
    free(e->kids);
    for (size_t i = 0; i < e->nlinks; i++) expr_free(e->links[i].operand);
    free(e->links);
    free(e);
}

/* ---------------------------------------------------------------------------------------- */
/* Lexer                                                                                     */

typedef struct parser {
    const char *src;
    size_t len, base, pos; /* pos: first byte after the current token */
    token_t tok;
    strbuf_t sval; /* decoded text of the current T_STR token */
    int depth;
    bool failed;
    expr_error_t *err;
} parser_t;

/* Records the first error only: later ones are usually consequences of it. */
__attribute__((format(printf, 3, 4))) static void perr(parser_t *p, size_t off, const char *fmt,
                                                       ...) {
    if (p->failed) return;
    p->failed = true;
    p->err->offset = p->base + off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
static bool is_member_char(char c) { return is_name_char(c) || c == '-'; }
static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Index of the first byte that is not part of valid UTF-8 (n when all is valid). Same rules as
 * jansson (no overlongs, surrogates or code points past U+10FFFF), so anything accepted here
 * can become a json string. */
static size_t utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned long cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= need) return i;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += need + 1;
    }
    return n;
}

static tok_kind_t keyword(const char *s, size_t n) {
    static const struct {
        const char *word;
        tok_kind_t kind;
    } words[] = {{"and", T_AND},   {"or", T_OR},       {"not", T_NOT},  {"in", T_IN},
                 {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].word) == n && !memcmp(words[i].word, s, n)) return words[i].kind;
    return T_NAME;
}

static void lex_number(parser_t *p, size_t i) {
    const char *s = p->src;
    size_t j = i, n = p->len;
    bool real = false;
    while (j < n && is_digit(s[j])) j++;
    /* "1." followed by a non-digit is the integer 1 and a '.', like a path step. */
    if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
        real = true;
        for (j++; j < n && is_digit(s[j]);) j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-')) k++;
        if (k < n && is_digit(s[k])) {
            real = true;
            for (j = k; j < n && is_digit(s[j]);) j++;
        }
    }
    p->tok.end = j;
    if (j < n && is_name_char(s[j])) {
        perr(p, i, "invalid number literal");
        p->tok.kind = T_ERR;
        return;
    }
    char *text = xstrndup(s + i, j - i);
    errno = 0;
    if (real) {
        p->tok.kind = T_REAL;
        p->tok.rval = strtod(text, NULL);
        if (!isfinite(p->tok.rval)) {
            perr(p, i, "number literal out of range");
            p->tok.kind = T_ERR;
        }
    } else {
        p->tok.kind = T_INT;
        p->tok.ival = strtoll(text, NULL, 10);
        if (errno == ERANGE) {
            perr(p, i, "integer literal out of range");
            p->tok.kind = T_ERR;
        }
    }
    free(text);
}

static int escape_char(char c) {
    switch (c) {
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case '\\':
        return '\\';
    case '\'':
        return '\'';
    case '"':
        return '"';
    default:
        return -1;
    }
}

static void lex_string(parser_t *p, size_t i) {
    const char *s = p->src;
    char quote = s[i];
    size_t j = i + 1, n = p->len;
    sb_reset(&p->sval);
    p->tok.kind = T_ERR;
    while (j < n && s[j] != quote) {
        if (s[j] != '\\') {
            size_t run = j;
            while (j < n && s[j] != quote && s[j] != '\\') j++;
            sb_append(&p->sval, s + run, j - run);
            continue;
        }
        if (j + 1 >= n) {
            j = n; /* a trailing backslash leaves the string open */
            break;
        }
        int c = escape_char(s[j + 1]);
        if (c < 0) {
            perr(p, j, "unknown escape sequence in string (use \\n \\t \\r \\\\ \\' \\\")");
            p->tok.end = n;
            return;
        }
        sb_putc(&p->sval, (char)c);
        j += 2;
    }
    if (j >= n) {
        perr(p, i, "unterminated string literal");
        p->tok.end = n;
        return;
    }
    /* Escapes are ASCII, so checking the raw bytes checks the decoded text. */
    size_t bad = utf8_check(s + i + 1, j - i - 1);
    if (bad != j - i - 1) {
        perr(p, i + 1 + bad, "invalid UTF-8 in string literal");
        p->tok.end = n;
        return;
    }
    p->tok.kind = T_STR;
    p->tok.end = j + 1;
}

/* Two-byte operators first, so "<=" is not read as "<" "=". */
static bool lex_punct(parser_t *p, size_t i) {
    static const struct {
        const char *text;
        tok_kind_t kind;
    } ops[] = {{"<=", T_LE},   {">=", T_GE},     {"==", T_EQ},    {"!=", T_NE},    {"&&", T_AND},
               {"||", T_OR},   {"(", T_LPAREN},  {")", T_RPAREN}, {"[", T_LBRACK}, {"]", T_RBRACK},
               {".", T_DOT},   {",", T_COMMA},   {"+", T_PLUS},   {"-", T_MINUS},  {"*", T_STAR},
               {"/", T_SLASH}, {"%", T_PERCENT}, {"<", T_LT},     {">", T_GT},     {"!", T_NOT}};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t n = strlen(ops[k].text);
        if (p->len - i >= n && !memcmp(p->src + i, ops[k].text, n)) {
            p->tok.kind = ops[k].kind;
            p->tok.end = i + n;
            return true;
        }
    }
    return false;
}

static void lex_bad_char(parser_t *p, size_t i) {
    unsigned char c = (unsigned char)p->src[i];
    if (c == '=')
        perr(p, i, "unexpected '=' (use '==' to compare)");
    else if (c == '&' || c == '|')
        perr(p, i, "unexpected '%c' (use '%c%c' or '%s')", c, c, c, c == '&' ? "and" : "or");
    else if (c >= 0x20 && c < 0x7f)
        perr(p, i, "unexpected character '%c'", c);
    else
        perr(p, i, "unexpected byte 0x%02x", c);
    p->tok.kind = T_ERR;
    p->tok.end = p->len;
}

/* Reads the token after the current one. Right after a '.', a member name is read instead of
 * an ordinary token, since members may start with a digit or contain '-'. */
static void advance(parser_t *p) {
    bool after_dot = p->tok.kind == T_DOT;
    size_t i = p->pos;
    if (p->tok.kind == T_ERR) return; /* stay on the error: the parser unwinds */
    while (i < p->len && is_space(p->src[i])) i++;
    p->tok.off = i;
    p->tok.end = i;
    if (i >= p->len) {
        p->tok.kind = T_EOF;
    } else if (after_dot && is_member_char(p->src[i])) {
        size_t j = i;
        while (j < p->len && is_member_char(p->src[j])) j++;
        p->tok.kind = T_NAME;
        p->tok.end = j;
    } else if (is_digit(p->src[i])) {
        lex_number(p, i);
    } else if (is_name_start(p->src[i])) {
        size_t j = i;
        while (j < p->len && is_name_char(p->src[j])) j++;
        p->tok.kind = keyword(p->src + i, j - i);
        p->tok.end = j;
    } else if (p->src[i] == '\'' || p->src[i] == '"') {
        lex_string(p, i);
    } else if (!lex_punct(p, i)) {
        lex_bad_char(p, i);
    }
    p->pos = p->tok.end;
}

/* ---------------------------------------------------------------------------------------- */
/* Parser                                                                                    */

static expr_t *parse_expr(parser_t *p);

static void err_unexpected(parser_t *p) {
    if (p->tok.kind == T_EOF) {
        perr(p, p->tok.off, "unexpected end of expression");
    } else {
        size_t n = p->tok.end - p->tok.off;
        perr(p, p->tok.off, "unexpected '%.*s'", (int)(n > 32 ? 32 : n), p->src + p->tok.off);
    }
}

static bool expect(parser_t *p, tok_kind_t kind, const char *what) {
    if (p->tok.kind == kind) {
        advance(p);
        return true;
    }
    if (p->tok.kind == T_EOF)
        perr(p, p->tok.off, "expected %s before end of expression", what);
    else
        perr(p, p->tok.off, "expected %s", what);
    return false;
}

static bool enter(parser_t *p) {
    if (p->depth >= EXPR_MAX_DEPTH) {
        perr(p, p->tok.off, "expression nested too deeply (limit %d levels)", EXPR_MAX_DEPTH);
        return false;
    }
    p->depth++;
    return true;
}

static expr_t *parse_literal(parser_t *p) {
    json_t *v;
    switch (p->tok.kind) {
    case T_INT:
        v = json_integer(p->tok.ival);
        break;
    case T_REAL:
        v = json_real(p->tok.rval);
        break;
    case T_STR:
        v = json_stringn(sb_str(&p->sval), p->sval.len);
        break;
    case T_TRUE:
        v = json_true();
        break;
    case T_FALSE:
        v = json_false();
        break;
    default:
        v = json_null();
        break;
    }
    if (!v) { /* unreachable: the lexer validated the literal; OOM would abort elsewhere */
        perr(p, p->tok.off, "invalid literal");
        return NULL;
    }
    expr_t *e = node_new(N_LIT, p->base + p->tok.off);
    e->lit = v;
    advance(p);
    return e;
}

/* Comma-separated expressions up to `close`; the opening token is already consumed. */
static bool parse_items(parser_t *p, expr_t *e, tok_kind_t close, const char *what) {
    if (p->tok.kind == close) {
        advance(p);
        return true;
    }
    for (;;) {
        expr_t *item = parse_expr(p);
        if (!item) return false;
        push_kid(e, item);
        if (p->tok.kind == T_COMMA) {
            advance(p);
            continue;
        }
        return expect(p, close, what);
    }
}

static expr_t *parse_list(parser_t *p) {
    expr_t *e = node_new(N_LIST, p->base + p->tok.off);
    advance(p);
    if (!parse_items(p, e, T_RBRACK, "',' or ']' in list")) {
        expr_free(e);
        return NULL;
    }
    return e;
}

static expr_t *parse_call(parser_t *p, size_t name_off, const char *name, size_t name_len) {
    size_t fn = 0;
    while (fn < FN_COUNT &&
           !(strlen(fn_table[fn].name) == name_len && !memcmp(fn_table[fn].name, name, name_len)))
        fn++;
    if (fn == FN_COUNT) {
        perr(p, name_off,
             "unknown function '%.*s' (known: len, lower, upper, contains, default, json, trim)",
             (int)(name_len > 40 ? 40 : name_len), name);
        return NULL;
    }
    expr_t *e = node_new(N_CALL, p->base + name_off);
    e->fn = (fn_id_t)fn;
    advance(p); /* '(' */
    if (!parse_items(p, e, T_RPAREN, "',' or ')' after argument")) {
        expr_free(e);
        return NULL;
    }
    if (e->nkids != fn_table[fn].arity) {
        perr(p, name_off, "%s() takes %zu argument%s, got %zu", fn_table[fn].name,
             fn_table[fn].arity, fn_table[fn].arity == 1 ? "" : "s", e->nkids);
        expr_free(e);
        return NULL;
    }
    return e;
}

static expr_t *parse_name(parser_t *p) {
    size_t off = p->tok.off, n = p->tok.end - p->tok.off;
    const char *name = p->src + off;
    advance(p);
    if (p->tok.kind == T_LPAREN) return parse_call(p, off, name, n);
    expr_t *e = node_new(N_PATH, p->base + off);
    e->root = xstrndup(name, n);
    return e;
}

static expr_t *parse_primary(parser_t *p) {
    switch (p->tok.kind) {
    case T_INT:
    case T_REAL:
    case T_STR:
    case T_TRUE:
    case T_FALSE:
    case T_NULL:
        return parse_literal(p);
    case T_NAME:
        return parse_name(p);
    case T_LBRACK:
        return parse_list(p);
    case T_LPAREN: {
        advance(p);
        expr_t *e = parse_expr(p);
        if (e && !expect(p, T_RPAREN, "')'")) {
            expr_free(e);
            return NULL;
        }
        return e;
    }
    default:
        err_unexpected(p);
        return NULL;
    }
}

static bool parse_step(parser_t *p, expr_t *path) {
    step_t *st = vec_push((void **)&path->steps, &path->nsteps, &path->capsteps, sizeof *st);
    st->off = p->base + p->tok.off;
    if (p->tok.kind == T_DOT) {
        advance(p);
        if (p->tok.kind != T_NAME) {
            perr(p, p->tok.off, "expected a name after '.'");
            return false;
        }
        st->off = p->base + p->tok.off;
        st->key = xstrndup(p->src + p->tok.off, p->tok.end - p->tok.off);
        advance(p);
        return true;
    }
    advance(p); /* '[' */
    st->index = parse_expr(p);
    return st->index && expect(p, T_RBRACK, "']'");
}

static expr_t *parse_postfix(parser_t *p) {
    expr_t *e = parse_primary(p);
    if (!e) return NULL;
    while (p->tok.kind == T_DOT || p->tok.kind == T_LBRACK) {
        if (e->kind != N_PATH) { /* a path on a literal, list, call or (group) */
            expr_t *path = node_new(N_PATH, e->off);
            path->sub = e;
            e = path;
        }
        if (!parse_step(p, e)) {
            expr_free(e);
            return NULL;
        }
    }
    return e;
}

static expr_t *parse_unary(parser_t *p) {
    if (p->tok.kind != T_NOT && p->tok.kind != T_MINUS) return parse_postfix(p);
    expr_t *e = node_new(p->tok.kind == T_NOT ? N_NOT : N_NEG, p->base + p->tok.off);
    advance(p);
    if (!enter(p)) {
        expr_free(e);
        return NULL;
    }
    e->sub = parse_unary(p);
    p->depth--;
    if (!e->sub) {
        expr_free(e);
        return NULL;
    }
    return e;
}

/* Binary precedence levels, loosest first. */
static const tok_kind_t levels[][4] = {
    {T_OR},
    {T_AND},
    {T_IN},
    {T_EQ, T_NE},
    {T_LT, T_LE, T_GT, T_GE},
    {T_PLUS, T_MINUS},
    {T_STAR, T_SLASH, T_PERCENT},
};
#define LEVEL_COUNT (sizeof levels / sizeof levels[0])

static bool level_has(size_t level, tok_kind_t k) {
    for (size_t i = 0; i < 4 && levels[level][i] != T_EOF; i++)
        if (levels[level][i] == k) return true;
    return false;
}

static void push_link(expr_t *chain, tok_kind_t op, size_t off, expr_t *operand) {
    link_t *l = vec_push((void **)&chain->links, &chain->nlinks, &chain->caplinks, sizeof *l);
    l->op = op;
    l->off = off;
    l->operand = operand;
}

static expr_t *parse_level(parser_t *p, size_t level) {
    if (level == LEVEL_COUNT) return parse_unary(p);
    expr_t *lhs = parse_level(p, level + 1);
    if (!lhs || !level_has(level, p->tok.kind)) return lhs;
    expr_t *chain = node_new(N_CHAIN, lhs->off);
    push_link(chain, T_EOF, lhs->off, lhs);
    while (level_has(level, p->tok.kind)) {
        tok_kind_t op = p->tok.kind;
        size_t off = p->base + p->tok.off;
        advance(p);
        expr_t *rhs = parse_level(p, level + 1);
        if (!rhs) {
            expr_free(chain);
            return NULL;
        }
        push_link(chain, op, off, rhs);
    }
    return chain;
}

static expr_t *parse_expr(parser_t *p) {
    if (!enter(p)) return NULL;
    expr_t *e = parse_level(p, 0);
    p->depth--;
    return e;
}

expr_t *expr_parse_at(const char *src, size_t len, size_t base, expr_error_t *err) {
    expr_error_t scratch;
    parser_t p = {
        .src = src ? src : "", .len = src ? len : 0, .base = base, .err = err ? err : &scratch};
    p.err->offset = base;
    p.err->message[0] = '\0';
    p.tok.kind = T_EOF;
    advance(&p);
    expr_t *e = NULL;
    if (p.tok.kind == T_EOF) {
        perr(&p, p.tok.off, "empty expression");
    } else {
        e = parse_expr(&p);
        if (e && p.tok.kind != T_EOF) err_unexpected(&p);
    }
    sb_free(&p.sval);
    if (p.failed) {
        expr_free(e);
        return NULL;
    }
    return e;
}

expr_t *expr_parse(const char *src, size_t len, expr_error_t *err) {
    return expr_parse_at(src, len, 0, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Values                                                                                    */

const char *expr_type_name(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_STRING:
        return "string";
    case JSON_ARRAY:
        return "list";
    case JSON_OBJECT:
        return "object";
    default:
        return "null";
    }
}

bool expr_truthy(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_TRUE:
        return true;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return false;
    }
}

/* Shortest digits that read back as the same double, so 0.1 prints as 0.1 and not
 * 0.10000000000000001. Plain notation for exponents -5..16 (150.0, not 1.5e+02), else C's
 * exponent form (1e+20). A ".0" keeps whole reals recognisable as reals, as JSON encoders of
 * most languages do (2.0 -> "2.0"). */
static void format_real(strbuf_t *sb, double d) {
    char buf[64];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d) break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    const char *e = strchr(buf, 'e');
    int exp = e ? atoi(e + 1) : 0;
    if (exp >= -5 && exp < 17) {
        int decimals = prec - 1 - exp;
        snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, d);
        sb_puts(sb, buf);
        if (!strchr(buf, '.')) sb_puts(sb, ".0");
    } else {
        sb_puts(sb, buf);
    }
}

static void encode_string(strbuf_t *sb, const char *s, size_t n) {
    sb_putc(sb, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            sb_puts(sb, "\\\"");
            break;
        case '\\':
            sb_puts(sb, "\\\\");
            break;
        case '\b':
            sb_puts(sb, "\\b");
            break;
        case '\f':
            sb_puts(sb, "\\f");
            break;
        case '\n':
            sb_puts(sb, "\\n");
            break;
        case '\r':
            sb_puts(sb, "\\r");
            break;
        case '\t':
            sb_puts(sb, "\\t");
            break;
        default:
            if (c < 0x20)
                sb_printf(sb, "\\u%04x", c);
            else
                sb_putc(sb, (char)c);
        }
    }
    sb_putc(sb, '"');
}

/* Compact JSON. Our own encoder rather than json_dumps so reals inside lists and objects use
 * the same shortest form as top-level reals. Key order is jansson's insertion order. */
static void encode(strbuf_t *sb, const json_t *v, int depth) {
    if (depth > VALUE_MAX_DEPTH) {
        sb_puts(sb, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *val;
        bool first = true;
        sb_putc(sb, '{');
        json_object_keylen_foreach((json_t *)v, key, klen, val) {
            if (!first) sb_putc(sb, ',');
            first = false;
            encode_string(sb, key, klen);
            sb_putc(sb, ':');
            encode(sb, val, depth + 1);
        }
        sb_putc(sb, '}');
        break;
    }
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) sb_putc(sb, ',');
            encode(sb, json_array_get(v, i), depth + 1);
        }
        sb_putc(sb, ']');
        break;
    case JSON_STRING:
        encode_string(sb, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        format_real(sb, json_real_value(v));
        break;
    case JSON_TRUE:
        sb_puts(sb, "true");
        break;
    case JSON_FALSE:
        sb_puts(sb, "false");
        break;
    default:
        sb_puts(sb, "null");
        break;
    }
}

char *expr_format(const json_t *v) {
    if (!v || json_is_null(v)) return xstrdup("");
    if (json_is_string(v)) return xstrndup(json_string_value(v), json_string_length(v));
    strbuf_t sb = {0};
    encode(&sb, v, 0);
    return sb_take(&sb);
}

static int cmp_numbers(const json_t *a, const json_t *b) {
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    double x = json_number_value(a), y = json_number_value(b);
    return (x > y) - (x < y);
}

static int cmp_strings(const json_t *a, const json_t *b) {
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    if (c) return c < 0 ? -1 : 1;
    return (la > lb) - (la < lb);
}

/* Deep equality where numbers compare by value across integer and real (1 == 1.0). */
static bool values_equal(const json_t *a, const json_t *b, int depth) {
    if (json_is_number(a) && json_is_number(b)) return cmp_numbers(a, b) == 0;
    if (json_typeof(a) != json_typeof(b)) return false;
    if (depth > VALUE_MAX_DEPTH) return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return cmp_strings(a, b) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i), depth + 1)) return false;
        return true;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *key;
        size_t klen;
        json_t *va;
        json_object_keylen_foreach((json_t *)a, key, klen, va) {
            const json_t *vb = json_object_getn(b, key, klen);
            if (!vb || !values_equal(va, vb, depth + 1)) return false;
        }
        return true;
    }
    default:
        return true; /* null, true, false: the type is the value */
    }
}

static bool find_bytes(const char *hay, size_t hn, const char *needle, size_t nn) {
    if (nn == 0) return true;
    for (size_t i = 0; i + nn <= hn; i++)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, nn)) return true;
    return false;
}

/* ---------------------------------------------------------------------------------------- */
/* Evaluator                                                                                 */

typedef struct ectx {
    const expr_scope_t *scope;
    expr_error_t *err;
} ectx_t;

/* Fills the error and returns NULL so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static json_t *fail(ectx_t *cx, size_t off, const char *fmt,
                                                          ...) {
    /* The suffix is written first and kept whole, so truncation never eats the position. */
    char suffix[48];
    int sn = snprintf(suffix, sizeof suffix, " at offset %zu", off);
    size_t room = sizeof cx->err->message - (size_t)sn;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cx->err->message, room, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
    memcpy(cx->err->message + used, suffix, (size_t)sn + 1);
    cx->err->offset = off;
    return NULL;
}

static json_t *make_string(ectx_t *cx, size_t off, const char *s, size_t n) {
    json_t *v = json_stringn(s, n);
    return v ? v : fail(cx, off, "result is not valid UTF-8");
}

static json_t *make_real(ectx_t *cx, size_t off, const char *op, double d) {
    if (!isfinite(d)) return fail(cx, off, "result of '%s' is out of range", op);
    return json_real(d);
}

static const char *op_text(tok_kind_t op) {
    switch (op) {
    case T_PLUS:
        return "+";
    case T_MINUS:
        return "-";
    case T_STAR:
        return "*";
    case T_SLASH:
        return "/";
    case T_PERCENT:
        return "%";
    case T_LT:
        return "<";
    case T_LE:
        return "<=";
    case T_GT:
        return ">";
    case T_GE:
        return ">=";
    case T_EQ:
        return "==";
    case T_NE:
        return "!=";
    case T_IN:
        return "in";
    case T_AND:
        return "and";
    case T_OR:
        return "or";
    default:
        return "?";
    }
}

static json_t *eval(const expr_t *e, ectx_t *cx);

static const json_t *lookup_root(const expr_scope_t *scope, const char *name) {
    for (const expr_scope_t *s = scope; s; s = s->parent) {
        const json_t *v = json_is_object(s->vars) ? json_object_get(s->vars, name) : NULL;
        if (v) return v;
    }
    return NULL;
}

/* A number usable as a list index, or false (reals must be whole and in range). */
static bool index_of(const json_t *idx, json_int_t *out) {
    if (json_is_integer(idx)) {
        *out = json_integer_value(idx);
        return true;
    }
    double d = json_real_value(idx);
    if (!json_is_real(idx) || d != floor(d) || d < -9.0e18 || d > 9.0e18) return false;
    *out = (json_int_t)d;
    return true;
}

static const json_t *index_value(const json_t *v, const json_t *idx) {
    json_int_t i;
    if (json_is_array(v) && index_of(idx, &i)) {
        json_int_t n = (json_int_t)json_array_size(v);
        if (i < 0) i += n;
        return i >= 0 && i < n ? json_array_get(v, (size_t)i) : NULL;
    }
    if (json_is_object(v) && json_is_string(idx))
        return json_object_getn(v, json_string_value(idx), json_string_length(idx));
    return NULL;
}

static json_t *eval_path(const expr_t *e, ectx_t *cx) {
    json_t *cur;
    if (e->root) {
        const json_t *v = lookup_root(cx->scope, e->root);
        cur = v ? json_incref((json_t *)v) : json_null();
    } else if (!(cur = eval(e->sub, cx))) {
        return NULL;
    }
    /* Once the path is missing it stays null; later index expressions are not evaluated. */
    for (size_t i = 0; i < e->nsteps && !json_is_null(cur); i++) {
        const step_t *st = &e->steps[i];
        const json_t *next;
        if (st->key) {
            next = json_is_object(cur) ? json_object_get(cur, st->key) : NULL;
        } else {
            json_t *idx = eval(st->index, cx);
            if (!idx) {
                json_decref(cur);
                return NULL;
            }
            next = index_value(cur, idx);
            json_decref(idx);
        }
        json_t *hold = next ? json_incref((json_t *)next) : json_null();
        json_decref(cur);
        cur = hold;
    }
    return cur;
}

static json_t *eval_list(const expr_t *e, ectx_t *cx) {
    json_t *list = json_array();
    for (size_t i = 0; i < e->nkids; i++) {
        json_t *v = eval(e->kids[i], cx);
        if (!v) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, v);
    }
    return list;
}

static json_t *eval_neg(const expr_t *e, ectx_t *cx) {
    json_t *v = eval(e->sub, cx);
    if (!v) return NULL;
    json_t *r;
    if (json_is_integer(v) && json_integer_value(v) != LLONG_MIN)
        r = json_integer(-json_integer_value(v));
    else if (json_is_number(v)) /* a real, or the one integer whose negation overflows */
        r = json_real(-json_number_value(v));
    else
        r = fail(cx, e->off, "cannot apply '-' to %s", expr_type_name(v));
    json_decref(v);
    return r;
}

static json_t *arith_int(ectx_t *cx, tok_kind_t op, size_t off, json_int_t x, json_int_t y) {
    json_int_t r;
    switch (op) {
    case T_PLUS:
        if (__builtin_add_overflow(x, y, &r)) return json_real((double)x + (double)y);
        return json_integer(r);
    case T_MINUS:
        if (__builtin_sub_overflow(x, y, &r)) return json_real((double)x - (double)y);
        return json_integer(r);
    case T_STAR:
        if (__builtin_mul_overflow(x, y, &r)) return make_real(cx, off, "*", (double)x * (double)y);
        return json_integer(r);
    case T_SLASH:
        if (y == 0) return fail(cx, off, "division by zero");
        /* LLONG_MIN / -1 overflows (and LLONG_MIN % -1 is undefined in C): go through real. */
        if (y == -1 && x == LLONG_MIN) return json_real(-(double)x);
        if (x % y == 0) return json_integer(x / y);
        return json_real((double)x / (double)y);
    default: /* T_PERCENT */
        if (y == 0) return fail(cx, off, "division by zero");
        return json_integer(y == -1 ? 0 : x % y);
    }
}

static json_t *arith(ectx_t *cx, tok_kind_t op, size_t off, const json_t *a, const json_t *b) {
    if (json_is_integer(a) && json_is_integer(b))
        return arith_int(cx, op, off, json_integer_value(a), json_integer_value(b));
    double x = json_number_value(a), y = json_number_value(b);
    switch (op) {
    case T_PLUS:
        return make_real(cx, off, "+", x + y);
    case T_MINUS:
        return make_real(cx, off, "-", x - y);
    case T_STAR:
        return make_real(cx, off, "*", x * y);
    case T_SLASH:
        if (y == 0.0) return fail(cx, off, "division by zero");
        return make_real(cx, off, "/", x / y);
    default:
        if (y == 0.0) return fail(cx, off, "division by zero");
        return make_real(cx, off, "%", fmod(x, y));
    }
}

static json_t *concat_strings(ectx_t *cx, size_t off, const json_t *a, const json_t *b) {
    strbuf_t sb = {0};
    sb_append(&sb, json_string_value(a), json_string_length(a));
    sb_append(&sb, json_string_value(b), json_string_length(b));
    json_t *r = make_string(cx, off, sb_str(&sb), sb.len);
    sb_free(&sb);
    return r;
}

static json_t *op_plus(ectx_t *cx, size_t off, const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return arith(cx, T_PLUS, off, a, b);
    if (json_is_string(a) && json_is_string(b)) return concat_strings(cx, off, a, b);
    if (json_is_array(a) && json_is_array(b)) {
        json_t *r = json_array();
        json_array_extend(r, (json_t *)a);
        json_array_extend(r, (json_t *)b);
        return r;
    }
    return fail(cx, off, "cannot apply '+' to %s and %s", expr_type_name(a), expr_type_name(b));
}

static json_t *op_order(ectx_t *cx, tok_kind_t op, size_t off, const json_t *a, const json_t *b) {
    int c;
    if (json_is_null(a) || json_is_null(b)) return json_false();
    if (json_is_number(a) && json_is_number(b))
        c = cmp_numbers(a, b);
    else if (json_is_string(a) && json_is_string(b))
        c = cmp_strings(a, b);
    else
        return fail(cx, off, "cannot compare %s with %s using '%s'", expr_type_name(a),
                    expr_type_name(b), op_text(op));
    bool r = op == T_LT ? c < 0 : op == T_LE ? c <= 0 : op == T_GT ? c > 0 : c >= 0;
    return json_boolean(r);
}

/* Shared by `needle in hay` and contains(hay, needle); `what` names the operator. */
static json_t *op_in(ectx_t *cx, const char *what, size_t off, const json_t *needle,
                     const json_t *hay) {
    if (json_is_null(hay)) return json_false();
    if (json_is_array(hay)) {
        for (size_t i = 0; i < json_array_size(hay); i++)
            if (values_equal(needle, json_array_get(hay, i), 0)) return json_true();
        return json_false();
    }
    if (json_is_string(hay) && json_is_string(needle))
        return json_boolean(find_bytes(json_string_value(hay), json_string_length(hay),
                                       json_string_value(needle), json_string_length(needle)));
    if (json_is_object(hay) && json_is_string(needle))
        return json_boolean(
            json_object_getn(hay, json_string_value(needle), json_string_length(needle)) != NULL);
    return fail(cx, off, "cannot apply '%s' to %s and %s", what, expr_type_name(needle),
                expr_type_name(hay));
}

static json_t *binop(ectx_t *cx, tok_kind_t op, size_t off, const json_t *a, const json_t *b) {
    switch (op) {
    case T_PLUS:
        return op_plus(cx, off, a, b);
    case T_MINUS:
    case T_STAR:
    case T_SLASH:
    case T_PERCENT:
        if (json_is_number(a) && json_is_number(b)) return arith(cx, op, off, a, b);
        return fail(cx, off, "cannot apply '%s' to %s and %s", op_text(op), expr_type_name(a),
                    expr_type_name(b));
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        return op_order(cx, op, off, a, b);
    case T_EQ:
        return json_boolean(values_equal(a, b, 0));
    case T_NE:
        return json_boolean(!values_equal(a, b, 0));
    default:
        return op_in(cx, "in", off, a, b);
    }
}

/* and/or short-circuit and always yield a boolean. */
static json_t *eval_logic(const expr_t *e, ectx_t *cx) {
    bool is_and = e->links[1].op == T_AND;
    for (size_t i = 0; i < e->nlinks; i++) {
        json_t *v = eval(e->links[i].operand, cx);
        if (!v) return NULL;
        bool t = expr_truthy(v);
        json_decref(v);
        if (is_and != t) return json_boolean(t);
    }
    return json_boolean(is_and);
}

static json_t *eval_chain(const expr_t *e, ectx_t *cx) {
    if (e->links[1].op == T_AND || e->links[1].op == T_OR) return eval_logic(e, cx);
    json_t *acc = eval(e->links[0].operand, cx);
    for (size_t i = 1; acc && i < e->nlinks; i++) {
        json_t *rhs = eval(e->links[i].operand, cx);
        json_t *r = rhs ? binop(cx, e->links[i].op, e->links[i].off, acc, rhs) : NULL;
        json_decref(rhs);
        json_decref(acc);
        acc = r;
    }
    return acc;
}

static json_t *fn_len(ectx_t *cx, size_t off, const json_t *v) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        json_int_t n = 0;
        for (size_t i = 0; i < json_string_length(v); i++)
            n += ((unsigned char)s[i] & 0xC0) != 0x80; /* count lead bytes, not continuations */
        return json_integer(n);
    }
    if (json_is_array(v)) return json_integer((json_int_t)json_array_size(v));
    if (json_is_object(v)) return json_integer((json_int_t)json_object_size(v));
    if (json_is_null(v)) return json_integer(0);
    return fail(cx, off, "len() expects a string, list or object, got %s", expr_type_name(v));
}

/* lower, upper, trim: string in, string out; null passes through. */
static json_t *fn_string(ectx_t *cx, fn_id_t fn, size_t off, const json_t *v) {
    if (json_is_null(v)) return json_null();
    if (!json_is_string(v))
        return fail(cx, off, "%s() expects a string, got %s", fn_table[fn].name, expr_type_name(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (fn == F_TRIM) {
        while (n && is_space(s[0])) s++, n--;
        while (n && is_space(s[n - 1])) n--;
        return make_string(cx, off, s, n);
    }
    char *copy = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (fn == F_LOWER && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (fn == F_UPPER && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        copy[i] = c;
    }
    json_t *r = make_string(cx, off, copy, n);
    free(copy);
    return r;
}

static json_t *fn_json(ectx_t *cx, size_t off, const json_t *v) {
    strbuf_t sb = {0};
    encode(&sb, v, 0);
    json_t *r = make_string(cx, off, sb_str(&sb), sb.len);
    sb_free(&sb);
    return r;
}

static json_t *eval_call(const expr_t *e, ectx_t *cx) {
    json_t *a = eval(e->kids[0], cx);
    if (!a) return NULL;
    json_t *r = NULL, *b;
    switch (e->fn) {
    case F_LEN:
        r = fn_len(cx, e->off, a);
        break;
    case F_LOWER:
    case F_UPPER:
    case F_TRIM:
        r = fn_string(cx, e->fn, e->off, a);
        break;
    case F_JSON:
        r = fn_json(cx, e->off, a);
        break;
    case F_DEFAULT: /* the fallback is only evaluated when needed */
        if (!json_is_null(a)) return a;
        r = eval(e->kids[1], cx);
        break;
    case F_CONTAINS:
        if ((b = eval(e->kids[1], cx))) {
            r = op_in(cx, "contains", e->off, b, a);
            json_decref(b);
        }
        break;
    }
    json_decref(a);
    return r;
}

static json_t *eval(const expr_t *e, ectx_t *cx) {
    switch (e->kind) {
    case N_LIT:
        return json_incref(e->lit);
    case N_PATH:
        return eval_path(e, cx);
    case N_LIST:
        return eval_list(e, cx);
    case N_CALL:
        return eval_call(e, cx);
    case N_NEG:
        return eval_neg(e, cx);
    case N_CHAIN:
        return eval_chain(e, cx);
    case N_NOT: {
        json_t *v = eval(e->sub, cx);
        if (!v) return NULL;
        bool t = expr_truthy(v);
        json_decref(v);
        return json_boolean(!t);
    }
    }
    return fail(cx, e->off, "internal error: bad node");
}

int expr_eval(const expr_t *e, const expr_scope_t *scope, json_t **out, expr_error_t *err) {
    expr_error_t scratch;
    ectx_t cx = {.scope = scope, .err = err ? err : &scratch};
    cx.err->offset = 0;
    cx.err->message[0] = '\0';
    json_t *v = e ? eval(e, &cx) : fail(&cx, 0, "no expression");
    if (out)
        *out = v;
    else
        json_decref(v);
    return v ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------- */
/* References                                                                                */

void expr_visit_refs(const expr_t *e, expr_ref_fn fn, void *ud) {
    if (!e || !fn) return;
    if (e->root) {
        const char *member = e->nsteps && e->steps[0].key ? e->steps[0].key : NULL;
        fn(ud, e->root, member, e->off);
    }
    expr_visit_refs(e->sub, fn, ud);
    for (size_t i = 0; i < e->nsteps; i++) expr_visit_refs(e->steps[i].index, fn, ud);
    for (size_t i = 0; i < e->nkids; i++) expr_visit_refs(e->kids[i], fn, ud);
    for (size_t i = 0; i < e->nlinks; i++) expr_visit_refs(e->links[i].operand, fn, ud);
}

void expr_visit_paths(const expr_t *e, expr_path_fn fn, void *ud) {
    if (!e || !fn) return;
    if (e->root) {
        expr_path_t path = {.root = e->root, .off = e->off};
        while (path.n < EXPR_PATH_MAX && path.n < e->nsteps && e->steps[path.n].key) {
            path.keys[path.n] = e->steps[path.n].key;
            path.key_off[path.n] = e->steps[path.n].off;
            path.n++;
        }
        fn(ud, &path);
    }
    expr_visit_paths(e->sub, fn, ud);
    for (size_t i = 0; i < e->nsteps; i++) expr_visit_paths(e->steps[i].index, fn, ud);
    for (size_t i = 0; i < e->nkids; i++) expr_visit_paths(e->kids[i], fn, ud);
    for (size_t i = 0; i < e->nlinks; i++) expr_visit_paths(e->links[i].operand, fn, ud);
}

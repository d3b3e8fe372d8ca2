/* cmd_config.c - `baton config show|check`: the configuration in effect with where each value
 * came from, and the strict check of one file. */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_config_usage(FILE *f) {
    fputs("usage: baton config show [--config FILE] [--json]   the configuration in effect, each "
          "value\n"
          "                                                    with its source; secrets masked\n"
          "       baton config check FILE...                   check files: every unknown key "
          "or\n"
          "                                                    wrong type with file:line:col\n"
          "Without --config: $BATON_CONFIG, ./baton.yaml, $XDG_CONFIG_HOME/baton/config.yaml\n"
          "(~/.config), else the built-in defaults; then BATON__SECTION__KEY variables.\n"
          "docs: docs/configuration.md\n",
          f);
}

#define MASK "********"

/* One line of `config show`. */
typedef struct entry {
    char *key;      /* dotted path */
    json_t *value;  /* as shown (masked) */
    json_t *source; /* {kind: file|env|default, file, line, column | variable} */
    char *note;     /* "OPENAI_API_KEY is set", or NULL */
} entry_t;

typedef struct show {
    const cli_config_source_t *src;
    entry_t *items;
    size_t n;
} show_t;

static json_t *source_of(const config_origin_t *at) {
    if (!at) return json_pack("{s:s}", "kind", "default");
    if (!at->loc.line) return json_pack("{s:s, s:s}", "kind", "env", "variable", at->file);
    return json_pack("{s:s, s:s, s:i, s:i}", "kind", "file", "file", at->file, "line",
                     (json_int_t)at->loc.line, "column", (json_int_t)at->loc.col);
}

static void add_entry(show_t *s, const char *path, json_t *value, const config_origin_t *at,
                      const char *name, bool secret) {
    s->items = xrealloc(s->items, (s->n + 1) * sizeof *s->items);
    entry_t *e = &s->items[s->n++];
    e->key = xstrdup(path);
    e->value = secret ? json_string(MASK) : value;
    if (secret) json_decref(value);
    e->source = source_of(at);
    e->note = NULL;
    size_t l = strlen(name);
    /* api_key_env and friends name a variable: whether it is set matters, its value never shows */
    if (!secret && l > 4 && !strcmp(name + l - 4, "_env") && json_is_string(e->value)) {
        const char *var = json_string_value(e->value), *val = getenv(var);
        e->note = xasprintf("%s is %s", var, val && *val ? "set" : "not set");
    }
}

static char *join(const char *path, const char *name) {
    bool quote = strpbrk(name, ". ") != NULL;
    return xasprintf("%s%s%s%s%s", path, *path ? "." : "", quote ? "\"" : "", name,
                     quote ? "\"" : "");
}

/* Every value under v (schema k), and the defaults of known keys that are absent. */
static void walk(show_t *s, const config_key_t *k, const json_t *parent, const char *name,
                 const json_t *v, const char *path, bool secret) {
    secret = secret || config_key_is_secret(name);
    if (json_is_null(v)) v = NULL; /* `key:` with no value: not set */
    bool as_map =
        k->kind == CONFIG_MAP || (k->kind == CONFIG_STRING && k->keys && json_is_object(v));
    if (!as_map) {
        const config_origin_t *at =
            v ? config_origin_find(&s->src->origins, parent, name, 0) : NULL;
        if (v)
            add_entry(s, path, json_incref((json_t *)v), at, name, secret);
        else if (k->dflt) { /* typed where it reads as JSON: 0, false, [] */
            json_t *d = json_loads(k->dflt, JSON_DECODE_ANY, NULL);
            add_entry(s, path, d ? d : json_string(k->dflt), NULL, name, false);
        }
        return;
    }
    if (!v && (k->flags & CONFIG_OPT_IN)) return; /* absent: off, so no defaults either */
    for (const config_key_t *c = k->keys; c && c->name; c++) {
        char *sub = join(path, c->name);
        walk(s, c, v, c->name, json_object_get(v, c->name), sub, secret);
        free(sub);
    }
    const char *kn;
    const json_t *kv;
    json_object_foreach((json_t *)v, kn, kv) {
        bool known = false;
        const config_key_t *c = config_key_child(k, kn, false, &known);
        if (known || !c) continue;
        char *sub = join(path, kn);
        walk(s, c, v, kn, kv, sub, secret);
        free(sub);
    }
}

static int config_show(const char *path, bool json) {
    cli_config_t cfg;
    cli_config_source_t src;
    diag_list_t dl = {0};
    char *err = NULL;
    if (cli_config_read(path, true, &cfg, &src, &dl, &err) != 0) {
        char *list = err ? NULL : cli_format_diags(&dl);
        fprintf(stderr, "baton config show: %s\n", err ? err : list);
        free(list);
        free(err);
        diag_list_free(&dl);
        cli_config_source_free(&src);
        return EXIT_USAGE;
    }
    show_t s = {.src = &src};
    walk(&s, &config_schema, NULL, "", cfg.root, "", false);
    if (json) {
        json_t *out = json_pack("{s:s?, s:s?, s:s?, s:[]}", "file", src.file, "found", src.found,
                                "defaults_file", src.defaults_file, "settings");
        json_t *list = json_object_get(out, "settings");
        for (size_t i = 0; i < s.n; i++)
            json_array_append_new(list, json_pack("{s:s, s:O, s:O, s:s?}", "key", s.items[i].key,
                                                  "value", s.items[i].value, "source",
                                                  s.items[i].source, "note", s.items[i].note));
        cli_print_json(out);
        json_decref(out);
    } else {
        printf("# configuration: %s", src.file ? src.file : "none (built-in defaults)");
        if (src.found && strcmp(src.found, "--config"))
            printf(" (found by %s)", !strcmp(src.found, "XDG") ? "$XDG_CONFIG_HOME" : src.found);
        if (src.defaults_file) printf("; providers from %s", src.defaults_file);
        printf("\n");
        size_t width = 0;
        for (size_t i = 0; i < s.n; i++)
            if (strlen(s.items[i].key) > width) width = strlen(s.items[i].key);
        if (width > 56) width = 56;
        for (size_t i = 0; i < s.n; i++) {
            const entry_t *e = &s.items[i];
            char *v = json_is_string(e->value)
                          ? xstrdup(json_string_value(e->value))
                          : json_dumps(e->value,
                                       JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(12));
            const json_t *so = e->source;
            const char *kind = json_string_value(json_object_get(so, "kind"));
            char *from =
                !strcmp(kind, "file")
                    ? xasprintf("%s:%lld:%lld", json_string_value(json_object_get(so, "file")),
                                json_integer_value(json_object_get(so, "line")),
                                json_integer_value(json_object_get(so, "column")))
                : !strcmp(kind, "env") ? xstrdup(json_string_value(json_object_get(so, "variable")))
                                       : xstrdup("default");
            printf("%-*s = %s  # %s%s%s%s\n", (int)width, e->key, v, from, e->note ? " (" : "",
                   e->note ? e->note : "", e->note ? ")" : "");
            free(v);
            free(from);
        }
    }
    for (size_t i = 0; i < s.n; i++) {
        free(s.items[i].key);
        json_decref(s.items[i].value);
        json_decref(s.items[i].source);
        free(s.items[i].note);
    }
    free(s.items);
    cli_config_free(&cfg);
    cli_config_source_free(&src);
    return EXIT_OK;
}

static int config_check_files(int n, char **files) {
    int code = EXIT_OK;
    for (int i = 0; i < n; i++) {
        cli_config_t cfg;
        cli_config_source_t src;
        diag_list_t dl = {0};
        char *err = NULL;
        if (cli_config_read(files[i], false, &cfg, &src, &dl, &err) == 0) {
            printf("%s: ok\n", files[i]);
            cli_config_free(&cfg);
        } else {
            char *list = err ? NULL : cli_format_diags(&dl);
            fprintf(stderr, "%s\n", err ? err : list);
            free(list);
            code = EXIT_USAGE;
        }
        free(err);
        diag_list_free(&dl);
        cli_config_source_free(&src);
    }
    return code;
}

/* main.c has checked the subcommand (show or check) and answered --help. */
int cmd_config(int argc, char **argv) {
    bool show = !strcmp(argv[1], "show");
    const char *cmd = show ? "config show" : "config check";
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *path = NULL;
    bool json = false;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "h", opts, cmd)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            cmd_config_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    int rest = argc - optind;
    char **args = argv + optind;
    if (show) {
        if (rest) {
            fprintf(stderr, "baton config show: unexpected argument '%s'\n", args[0]);
            return EXIT_USAGE;
        }
        return config_show(path, json);
    }
    if (path || json || !rest) {
        fprintf(stderr, "baton config check: give the files to check: baton config check FILE\n");
        return EXIT_USAGE;
    }
    return config_check_files(rest, args);
}

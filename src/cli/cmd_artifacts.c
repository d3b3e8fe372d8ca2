/* cmd_artifacts.c - `baton artifacts ls|cat|diff`: every version of a run's artifacts, their
 * bytes, and what changed between two versions.
 *
 * Bytes are read from the content-addressed blobs and checked against the SHA-256 the journal
 * recorded before anything is printed: a damaged blob is an error (exit 1) that names it and
 * says what to do, never output that looks valid. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "util/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cmd_artifacts_usage(FILE *f) {
    fputs("usage: baton artifacts ls RUN_ID [--json] [--verify] [--data-dir DIR]\n"
          "       baton artifacts cat RUN_ID NAME [--version V] [--data-dir DIR]\n"
          "       baton artifacts diff RUN_ID NAME [--from V] [--to V] [--data-dir DIR]\n",
          f);
}

static const char *sget(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static long long iget(const json_t *o, const char *k) {
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A version number from the command line: 1, 2, ...; anything else is a usage error. */
static int parse_version(const char *opt, const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1) {
        fprintf(stderr, "baton artifacts: %s wants a version number (1, 2, ...), not '%s'\n", opt,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static void format_time(char *buf, size_t len, long long ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static int artifacts_ls(store_t *st, const char *data_dir, const char *id, bool json, bool verify) {
    json_t *rows = store_artifact_versions(st, id, NULL);
    if (!rows) {
        fprintf(stderr, "baton artifacts: cannot read the artifacts of run %s\n", id);
        return EXIT_FAILED;
    }
    int bad = 0;
    size_t i;
    json_t *row;
    /* --verify reads and hashes every version; problems go to stderr whole, after the table. */
    json_t *problems = json_array();
    if (verify) {
        json_array_foreach(rows, i, row) {
            char *err = NULL;
            size_t n;
            char *data = store_artifact_read(data_dir, id, row, &n, &err);
            json_object_set_new(row, "ok", json_boolean(data != NULL));
            if (!data) {
                bad++;
                json_array_append_new(problems, json_string(err));
            }
            free(data);
            free(err);
        }
    }
    if (json) {
        json_t *out = json_array(), *cur = NULL;
        json_array_foreach(rows, i, row) {
            const char *name = sget(row, "name");
            if (!cur || strcmp(sget(cur, "name"), name)) {
                cur = json_pack("{s:s, s:[]}", "name", name, "versions");
                json_array_append_new(out, cur);
            }
            json_t *v = json_pack(
                "{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "version",
                json_object_get(row, "version"), "bytes", json_object_get(row, "bytes"), "sha256",
                json_object_get(row, "sha256"), "task", json_object_get(row, "task_id"), "agent",
                json_object_get(row, "agent"), "mime", json_object_get(row, "mime"), "created_at",
                json_object_get(row, "created_at"), "blob", json_object_get(row, "blob"), "path",
                json_object_get(row, "path"));
            if (verify) json_object_set(v, "ok", json_object_get(row, "ok"));
            json_array_append_new(json_object_get(cur, "versions"), v);
        }
        cli_print_json(out);
        json_decref(out);
    } else if (!json_array_size(rows)) {
        printf("run %s wrote no artifacts\n", id);
    } else {
        printf("%-32s %7s %9s  %-16s  %-20s %-16s %-16s %s\n", "NAME", "VERSION", "BYTES", "SHA256",
               "TASK", "AGENT", "MIME", verify ? "WRITTEN              CHECK" : "WRITTEN");
        const char *last = NULL;
        json_array_foreach(rows, i, row) {
            const char *name = sget(row, "name");
            char when[32];
            format_time(when, sizeof when, iget(row, "created_at"));
            printf("%-32s %7lld %9lld  %.16s  %-20s %-16s %-16s %-19s%s\n",
                   last && !strcmp(last, name) ? "" : name, iget(row, "version"),
                   iget(row, "bytes"), sget(row, "sha256"),
                   sget(row, "task_id") ? sget(row, "task_id") : "-",
                   sget(row, "agent") ? sget(row, "agent") : "-", sget(row, "mime"), when,
                   !verify                                    ? ""
                   : json_is_true(json_object_get(row, "ok")) ? "  ok"
                                                              : "  DAMAGED");
            last = name;
        }
    }
    json_array_foreach(problems, i, row)
        fprintf(stderr, "baton artifacts: %s\n", json_string_value(row));
    json_decref(problems);
    json_decref(rows);
    return bad ? EXIT_FAILED : EXIT_OK;
}

/* The versions of one name, or NULL after saying which names the run has. */
static json_t *versions_of(store_t *st, const char *id, const char *name) {
    json_t *rows = store_artifact_versions(st, id, name);
    if (!rows) {
        fprintf(stderr, "baton artifacts: cannot read the artifacts of run %s\n", id);
        return NULL;
    }
    if (json_array_size(rows)) return rows;
    json_decref(rows);
    json_t *all = store_artifact_versions(st, id, NULL);
    strbuf_t names = {0};
    size_t i;
    json_t *row;
    const char *last = NULL;
    json_array_foreach(all, i, row) {
        if (last && !strcmp(last, sget(row, "name"))) continue;
        last = sget(row, "name");
        sb_printf(&names, "%s%s", names.len ? ", " : "", last);
    }
    if (names.len)
        fprintf(stderr, "baton artifacts: run %s has no artifact '%s' (it has: %s)\n", id, name,
                sb_str(&names));
    else
        fprintf(stderr, "baton artifacts: run %s has no artifact '%s' (it wrote none)\n", id, name);
    sb_free(&names);
    json_decref(all);
    return NULL;
}

static const json_t *version_row(const json_t *rows, const char *id, const char *name,
                                 long long v) {
    const json_t *row = store_artifact_version(rows, v);
    if (!row)
        fprintf(stderr,
                "baton artifacts: artifact '%s' of run %s has no version %lld (it has 1 to %lld)\n",
                name, id, v, iget(store_artifact_version(rows, 0), "version"));
    return row;
}

static int artifacts_cat(store_t *st, const char *data_dir, const char *id, const char *name,
                         long long version) {
    json_t *rows = versions_of(st, id, name);
    if (!rows) return EXIT_FAILED;
    int code = EXIT_FAILED;
    const json_t *row =
        version ? version_row(rows, id, name, version) : store_artifact_version(rows, 0);
    char *err = NULL, *data = NULL;
    size_t n = 0;
    if (!row) goto out;
    if (!(data = store_artifact_read(data_dir, id, row, &n, &err))) {
        fprintf(stderr, "baton artifacts: %s\n", err);
        goto out;
    }
    if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0) {
        fprintf(stderr, "baton artifacts: cannot write to stdout: %s\n", strerror(errno));
        goto out;
    }
    code = EXIT_OK;
out:
    free(data);
    free(err);
    json_decref(rows);
    return code;
}

static int artifacts_diff(store_t *st, const char *data_dir, const char *id, const char *name,
                          long long from, long long to) {
    json_t *rows = versions_of(st, id, name);
    if (!rows) return EXIT_FAILED;
    int code = EXIT_FAILED;
    long long latest = iget(store_artifact_version(rows, 0), "version");
    if (!to) to = latest;
    if (!from) from = to - 1;
    char *err = NULL;
    if (from < 1) {
        if (latest == 1)
            fprintf(stderr,
                    "baton artifacts: artifact '%s' of run %s has one version only: "
                    "nothing to compare it with\n",
                    name, id);
        else
            fprintf(stderr,
                    "baton artifacts: version 1 of '%s' has no version before it (--from "
                    "and --to pick the two versions to compare)\n",
                    name);
        goto out;
    }
    const json_t *ra = version_row(rows, id, name, from),
                 *rb = ra ? version_row(rows, id, name, to) : NULL;
    if (!ra || !rb) goto out;
    strbuf_t out = {0};
    diff_result_t r;
    if (store_artifact_diff(data_dir, id, ra, rb, &out, &r, &err) != 0) {
        fprintf(stderr, "baton artifacts: %s\n", err);
        goto out;
    }
    if (fwrite(sb_str(&out), 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "baton artifacts: cannot write to stdout: %s\n", strerror(errno));
        sb_free(&out);
        goto out;
    }
    sb_free(&out);
    if (r.approximate)
        fprintf(stderr, "baton artifacts: the versions differ too much for a minimal diff; parts "
                        "are shown as replaced whole\n");
    code = EXIT_OK;
out:
    free(err);
    json_decref(rows);
    return code;
}

int cmd_artifacts(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"verify", no_argument, NULL, 'V'},         {"version", required_argument, NULL, 'v'},
        {"from", required_argument, NULL, 'f'},     {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {0, 0, 0, 0},
    };
    if (argc < 2) {
        cmd_artifacts_usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cmd_artifacts_usage(stdout);
        return EXIT_OK;
    }
    const char *sub = argv[1], *data_dir = cli_default_data_dir();
    bool json = false, verify = false;
    long long version = 0, from = 0, to = 0;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "h", longopts, "artifacts")) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'V':
            verify = true;
            break;
        case 'v':
            if (parse_version("--version", optarg, &version)) return EXIT_USAGE;
            break;
        case 'f':
            if (parse_version("--from", optarg, &from)) return EXIT_USAGE;
            break;
        case 't':
            if (parse_version("--to", optarg, &to)) return EXIT_USAGE;
            break;
        case 'h':
            cmd_artifacts_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    bool ls = !strcmp(sub, "ls"), cat = !strcmp(sub, "cat"), diff = !strcmp(sub, "diff");
    int want = ls ? 1 : 2; /* positional arguments: RUN_ID [NAME] */
    if ((!ls && !cat && !diff) || argc - optind != want || (version && !cat) ||
        ((from || to) && !diff) || ((json || verify) && !ls)) {
        cmd_artifacts_usage(stderr);
        return EXIT_USAGE;
    }
    /* Hashing needs libsodium ready, as in run sessions. */
    if (sodium_init() < 0) {
        fprintf(stderr, "baton: libsodium failed to initialise\n");
        return EXIT_FAILED;
    }
    char *err = NULL, *id = NULL;
    int code = EXIT_FAILED;
    bool missing;
    store_t *st = cli_open_existing_store(data_dir, &missing, &err);
    if (!st && missing) code = EXIT_USAGE; /* a mistyped --data-dir, not a failure of the run */
    if (!st || store_resolve_run(st, argv[optind], &id, &err) != 0) goto out;
    const char *name = want == 2 ? argv[optind + 1] : NULL;
    if (ls)
        code = artifacts_ls(st, data_dir, id, json, verify);
    else if (cat)
        code = artifacts_cat(st, data_dir, id, name, version);
    else
        code = artifacts_diff(st, data_dir, id, name, from, to);
out:
    if (err) fprintf(stderr, "baton artifacts: %s\n", err);
    free(err);
    free(id);
    store_close(st);
    return code;
}

/* fuzz_config.c - any bytes through the configuration check (core/config.h): the text before a
 * line "%%" is the YAML file, each line after it a BATON__ variable. Nothing may crash, leak or
 * run away, whatever the YAML, the variables' names or their values. */
#include "core/config.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = xstrndup((const char *)data, size); /* variables end at a NUL anyway */
    size_t len = strlen(text);
    char *sep = strstr(text, "\n%%\n");
    const char *vars[64];
    size_t n = 0;
    if (sep) {
        *sep = '\0';
        len = (size_t)(sep - text);
        for (char *line = sep + 4; line && *line && n < 64;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            vars[n++] = line;
            line = nl ? nl + 1 : NULL;
        }
    }
    diag_list_t dl = {0};
    config_origins_t o = {0};
    yaml_tree_t t;
    json_t *root = NULL;
    if (yaml_tree_parse(&t, text, len, "fuzz.yaml", &dl) == 0 && t.root)
        root = config_from_yaml(t.root, "fuzz.yaml", &o);
    yaml_tree_free(&t);
    if (!json_is_object(root)) {
        json_decref(root);
        root = json_object();
    }
    config_apply_env(root, &o, vars, n, &dl);
    config_check(root, &o, "fuzz.yaml", &dl);
    json_decref(root);
    config_origins_free(&o);
    diag_list_free(&dl);
    free(text);
    return 0;
}

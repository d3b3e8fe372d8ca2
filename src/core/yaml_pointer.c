/* yaml_pointer.c - JSON pointers walked over yaml_tree nodes (yaml_pointer.h). */
#include "core/yaml_pointer.h"

#include <stdlib.h>
#include <string.h>

/* Decodes one reference token (~1 is '/', ~0 is '~') into out; returns its encoded length. */
static size_t token(const char *p, char *out, size_t cap, size_t *outlen) {
    size_t i = 0, n = 0;
    for (; p[i] && p[i] != '/'; i++) {
        char ch = p[i];
        if (ch == '~' && (p[i + 1] == '0' || p[i + 1] == '1')) ch = p[++i] == '0' ? '~' : '/';
        if (n + 1 < cap) out[n++] = ch;
    }
    out[n] = '\0';
    *outlen = n;
    return i;
}

src_loc_t yaml_pointer_loc(const yt_node_t *root, const char *pointer) {
    if (!root) return (src_loc_t){0, 0};
    const yt_node_t *node = root;
    src_loc_t at = root->loc;
    const char *p = pointer ? pointer : "";
    char seg[512];
    while (*p == '/') {
        size_t len;
        p += 1 + token(p + 1, seg, sizeof seg, &len);
        const yt_node_t *next = NULL;
        src_loc_t next_at = {0, 0};
        if (node->kind == YT_MAP) {
            for (size_t i = 0; i < node->map.n && !next; i++) {
                const yt_node_t *k = node->map.pairs[i].key;
                if (k->scalar.len == len && !memcmp(k->scalar.str, seg, len)) {
                    next = node->map.pairs[i].value;
                    next_at = k->loc;
                }
            }
        } else if (node->kind == YT_SEQ && len && strspn(seg, "0123456789") == len) {
            size_t idx = (size_t)strtoull(seg, NULL, 10);
            if (idx < node->seq.n) {
                next = node->seq.items[idx];
                next_at = next->loc;
            }
        }
        if (!next) break;
        node = next;
        at = next_at;
    }
    return at;
}

/* yaml_pointer.h - where a JSON pointer (RFC 6901) lands in a YAML tree, for messages about
 * JSON built from YAML (yaml_tree_to_json), such as an output schema's offending keyword. */
#ifndef BATON_CORE_YAML_POINTER_H
#define BATON_CORE_YAML_POINTER_H

#include "core/yaml_tree.h"

/* The location of what `pointer` names under `root`: for a mapping member, its key (so a message
 * points at the keyword); for a list item, the item. When the pointer leaves the tree, the
 * location of the deepest node it reached; "" is root itself. */
src_loc_t yaml_pointer_loc(const yt_node_t *root, const char *pointer);

#endif

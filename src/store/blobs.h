/* blobs.h - content-addressed bytes under the data dir: <data-dir>/blobs/<aa>/<sha256>.
 *
 * A blob's name is the SHA-256 of its bytes (lowercase hex; <aa> is its first two digits, so no
 * folder grows past 1/256 of the blobs), so the same bytes are stored once however many
 * artifacts, versions or runs hold them. A blob is written to a temporary file and renamed into
 * place read-only (0444): it appears whole or not at all, and is never rewritten.
 *
 * Reads are verified: the bytes are hashed again and compared with the name the journal
 * recorded. A blob that is missing, truncated or altered is an error that names the blob, the
 * hash expected and the hash found, and what to do; its bytes are never returned.
 *
 * Needs sodium_init() to have been called. */
#ifndef BATON_STORE_BLOBS_H
#define BATON_STORE_BLOBS_H

#include <stdbool.h>
#include <stddef.h>

#define BLOB_HEX_LEN 64 /* SHA-256 in hex */

/* SHA-256 of len bytes as 64 lowercase hex digits and a NUL. */
void blob_sha256_hex(const void *data, size_t len, char out[BLOB_HEX_LEN + 1]);

/* Whether s is 64 lowercase hex digits (so it can name a blob without leaving blobs/). */
bool blob_valid_hash(const char *s);

/* "blobs/<aa>/<sha>": the blob's path relative to the data dir, as journaled. Caller frees. */
char *blob_rel_path(const char *sha);

/* Stores len bytes as a blob of data_dir (creating blobs/<aa>/ as needed) and fills sha.
 * An existing blob of the same name and size is left alone (content addressing: it holds these
 * bytes); one of another size is damaged and is replaced. 0, or -1 with *err (caller frees). */
int blob_put(const char *data_dir, const void *data, size_t len, char sha[BLOB_HEX_LEN + 1],
             char **err);

/* Reads the blob named sha from data_dir and checks it: its size against `bytes` (the size the
 * journal recorded; -1 when unknown, then at most BLOB_READ_MAX bytes are read) and its SHA-256
 * against sha. Returns the bytes, NUL-terminated (caller frees; *len excludes the NUL), or NULL
 * with *err (caller frees) naming the blob, what was expected and what was found (or why it
 * cannot be read), and what to do. A file of the wrong size is reported without being read. */
char *blob_read_verified(const char *data_dir, const char *sha, long long bytes, size_t *len,
                         char **err);

/* The same check for any file that must hold the bytes of hash sha (artifacts journaled before
 * blobs existed have only their file in artifacts/<run>/). data_dir is named in the advice. */
char *blob_read_file_verified(const char *path, const char *sha, long long bytes,
                              const char *data_dir, size_t *len, char **err);

#define BLOB_READ_MAX ((size_t)1 << 30)

#endif

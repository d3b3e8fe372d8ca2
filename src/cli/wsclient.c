/* wsclient.c - a blocking WebSocket client over one TCP socket (see wsclient.h). */
#include "cli/wsclient.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_MAX_MESSAGE (16u << 20)

bool wsclient_supports(const char *server) { return !strncmp(server, "http://", 7); }

static int dial(const char *host, const char *port, char **err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        *err = xasprintf("cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        *err = xasprintf("cannot reach the Baton server at %s:%s: %s (is `baton serve` running?)",
                         host, port, strerror(errno));
    return fd;
}

static bool write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool read_all(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* One client frame (clients mask every frame, RFC 6455 section 5.3). */
static bool send_frame(int fd, int opcode, const void *data, size_t len) {
    uint8_t head[14];
    size_t h = 0;
    head[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        head[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (uint8_t)(len >> 8);
        head[h++] = (uint8_t)len;
    } else {
        head[h++] = 0x80 | 127;
        for (int k = 7; k >= 0; k--) head[h++] = (uint8_t)((uint64_t)len >> (8 * k));
    }
    uint8_t mask[4];
    randombytes_buf(mask, sizeof mask);
    memcpy(head + h, mask, 4);
    h += 4;
    uint8_t *masked = xmalloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) masked[i] = ((const uint8_t *)data)[i] ^ mask[i % 4];
    bool ok = write_all(fd, head, h) && write_all(fd, masked, len);
    free(masked);
    return ok;
}

/* Reads the 101 answer's headers; false with *err unless the server switched protocols. */
static bool handshake(int fd, const char *host, const char *port, const char *path, char **err) {
    uint8_t nonce[16];
    char key[32];
    randombytes_buf(nonce, sizeof nonce);
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n",
                          path, host, port, key);
    bool ok = write_all(fd, req, strlen(req));
    free(req);
    char head[8192];
    size_t n = 0;
    while (ok && n < sizeof head - 1) { /* byte by byte: the first frame may follow at once */
        if (!read_all(fd, head + n, 1)) ok = false;
        n++;
        if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4)) break;
    }
    head[n] = '\0';
    if (!ok || strncmp(head, "HTTP/1.1 101", 12) || !strcasestr(head, "upgrade: websocket")) {
        *err = xasprintf("the server did not open a WebSocket at %s: %.*s", path,
                         (int)strcspn(head, "\r\n"), n ? head : "no answer");
        return false;
    }
    /* RFC 6455 4.1: the accept header is base64(SHA-1(key + the protocol's GUID)). */
    char *salted = xasprintf("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char digest[20];
    char want[40];
    lws_SHA1((const unsigned char *)salted, strlen(salted), digest);
    free(salted);
    sodium_bin2base64(want, sizeof want, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
    const char *got = strcasestr(head, "\r\nsec-websocket-accept:");
    if (got) {
        got += strlen("\r\nsec-websocket-accept:");
        while (*got == ' ') got++;
    }
    if (!got || strncmp(got, want, strlen(want)) || (got[strlen(want)] != '\r')) {
        *err = xasprintf("the server at %s answered the WebSocket handshake with a wrong "
                         "Sec-WebSocket-Accept",
                         path);
        return false;
    }
    return true;
}

int wsclient_follow(const char *server, const char *path, const json_t *hello, wsclient_fn fn,
                    void *ud, char **err) {
    if (!wsclient_supports(server)) {
        *err = xasprintf("only http:// servers can be followed over WebSocket, not %s", server);
        return -1;
    }
    const char *hp = server + 7;
    size_t hl = strcspn(hp, "/");
    char *hostport = xstrndup(hp, hl), *host, *port;
    if (hostport[0] == '[') { /* [::1]:8080 */
        char *close_br = strchr(hostport, ']');
        host = hostport + 1;
        if (close_br) *close_br = '\0';
        port = close_br && close_br[1] == ':' ? close_br + 2 : "80";
    } else {
        char *colon = strrchr(hostport, ':');
        host = hostport;
        port = colon ? (*colon = '\0', colon + 1) : "80";
    }
    int rc = -1;
    int fd = dial(host, port, err);
    if (fd < 0 || !handshake(fd, host, port, path, err)) goto out;
    char *text = json_dumps(hello, JSON_COMPACT);
    bool sent = send_frame(fd, 1, text, strlen(text));
    free(text);
    if (!sent) {
        *err = xstrdup("the WebSocket closed before the subscription was sent");
        goto out;
    }
    strbuf_t msg = {0};
    for (;;) {
        uint8_t h[2];
        if (!read_all(fd, h, 2)) {
            *err = xstrdup("the server closed the connection");
            break;
        }
        int opcode = h[0] & 0x0f;
        bool fin = h[0] & 0x80, masked = h[1] & 0x80;
        uint64_t len = h[1] & 0x7f;
        uint8_t ext[8];
        if (len == 126) {
            if (!read_all(fd, ext, 2)) break;
            len = (uint64_t)ext[0] << 8 | ext[1];
        } else if (len == 127) {
            if (!read_all(fd, ext, 8)) break;
            len = 0;
            for (int k = 0; k < 8; k++) len = len << 8 | ext[k];
        }
        uint8_t mask[4] = {0};
        if (masked && !read_all(fd, mask, 4)) break;
        if (len + msg.len > WS_MAX_MESSAGE) {
            *err = xasprintf("a WebSocket message over %u bytes", WS_MAX_MESSAGE);
            break;
        }
        char *payload = xmalloc(len + 1);
        if (!read_all(fd, payload, len)) {
            free(payload);
            *err = xstrdup("the server closed the connection in a message");
            break;
        }
        for (uint64_t i = 0; masked && i < len; i++) payload[i] ^= (char)mask[i % 4];
        if (opcode == 9) { /* ping: pong with the same data */
            send_frame(fd, 10, payload, len);
        } else if (opcode == 8) {
            free(payload);
            *err = xstrdup("the server closed the WebSocket");
            break;
        } else if (opcode == 1 || opcode == 0) {
            sb_append(&msg, payload, len);
            if (fin) {
                json_t *j = json_loadb(msg.buf ? msg.buf : "", msg.len, 0, NULL);
                msg.len = 0;
                int stop = j ? fn(ud, j) : 0;
                json_decref(j);
                if (stop) {
                    free(payload);
                    send_frame(fd, 8, "\x03\xe8", 2); /* 1000: done */
                    rc = 0;
                    break;
                }
            }
        }
        free(payload);
    }
    sb_free(&msg);
    if (rc != 0 && !*err) *err = xstrdup("the WebSocket connection broke off");
out:
    if (fd >= 0) close(fd);
    free(hostport);
    return rc;
}

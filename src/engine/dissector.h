/* The dissector contract: what a protocol dissector gets from the engine and what it provides. */
#ifndef HOPSCOPE_DISSECTOR_H
#define HOPSCOPE_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "ctx.h"
#include "records.h"
#include "stats.h"
#include "stream.h"

/*
 * One dissector: one line in the registry (dissectors/registry.c). Only `name` and `transport` are required.
 *  probe      confidence 0-100 that n first bytes of a direction start this protocol; taken at >= threshold
 *  ports      server ports, 0-terminated: they tell the server side of a connection seen without its SYN,
 *             and a connection picked up mid-stream on one is dissected (resynchronising) without a probe
 *  state_new  per-connection state (NULL: no memory, the connection is not dissected)
 *  parse      per direction of a TCP stream (stream.h); NULL: recognised, not dissected (TLS)
 *  datagram   one UDP payload
 *  eof        the connection ended; records still held are written by the engine after it
 * A new protocol is one file under dissectors/ defining one of these, and one line in dissectors/registry.c.
 */
struct hs_dissector {
    const char *name;
    uint8_t transport;              /* 6 TCP, 17 UDP */
    const uint16_t *ports;
    int (*probe)(const uint8_t *p, size_t n);
    int threshold;
    void *(*state_new)(struct hs_ctx *ctx);
    void (*state_free)(void *state);
    stream_parse_fn parse;
    void (*datagram)(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n);
    void (*eof)(struct hs_ctx *ctx, void *state);
    /* UDP: the copy_digest() (util.h) of the last datagrams that are not new messages when seen again (the
     * last request and reply), asked when the exchange closes; the engine drops a datagram with either digest
     * on the closed connection (a late copy). NULL: the digest of the datagram that closed it. 0: none. */
    void (*copies)(const void *state, uint64_t digest[2]);
};

/* The registry: every dissector, in probe order (dissectors/registry.c). */
extern const struct hs_dissector *const hs_dissectors[];

/* Bytes every probe needs to decide: fewer may be a prefix of a message start (a Kerberos record mark
 * sent alone, "RPC_OUT_DATA " cut short). A probe that returns 100 on fewer (a whole LDAP message of 14 bytes)
 * is taken at once. */
#define PROBE_MIN 16

/* The first dissector of transport `proto` whose probe takes the n bytes at p, or NULL. */
const struct hs_dissector *registry_probe(uint8_t proto, const uint8_t *p, size_t n);

/* What a stream of transport `proto` that no probe or port claims is handed to (TCP: dissectors/other, which
 * searches its first bytes for NTLMSSP), or NULL. */
const struct hs_dissector *registry_fallback(uint8_t proto);

/* The dissector of transport `proto` listing server port `port`, or NULL. */
const struct hs_dissector *registry_by_port(uint8_t proto, uint16_t port);

/* Is `port` a well-known server port (of any dissector, or of a protocol not dissected yet)? */
bool registry_server_port(uint16_t port);

#endif

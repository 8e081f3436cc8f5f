/* Kerberos KDC exchanges on TCP and UDP port 88 — RFC 4120 7.2.1 (UDP), 7.2.2 (TCP record marking). */
#ifndef HOPSCOPE_KDC_H
#define HOPSCOPE_KDC_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/*
 * The KDC dissectors: AS and TGS exchanges (and their S4U, user-to-user, renewal kinds) as `kerberos`
 * records, each written when its reply or error arrives; on TCP with record marking, on UDP one message per
 * datagram (copies of the previous message, as span ports deliver them, are not new exchanges).
 */
extern const struct hs_dissector dis_kerberos_tcp;
extern const struct hs_dissector dis_kerberos_udp;

#define KDC_PROBE_OK 90     /* a record mark (RFC 4120 7.2.2) and a KDC message's DER header that fits it */
#define KDC_PROBE_ABSURD 30 /* a KDC message's tag behind a record mark or DER length that cannot be right
                             * (reserved bit, < 2, indefinite or > 4 length octets, longer than the record):
                             * on port 88 the stream is still dissected, so that it counts as malformed */

/* Probe: confidence that n bytes at p start a Kerberos-over-TCP stream (4-byte big-endian length + KDC
 * message): KDC_PROBE_OK, KDC_PROBE_ABSURD, or 0 (no KDC message tag at p[4]). */
int kdc_probe_tcp(const uint8_t *p, size_t n);

#endif

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

/* Probe: confidence (0-100) that n bytes at p start a Kerberos-over-TCP stream (4-byte length + KDC message). */
int kdc_probe_tcp(const uint8_t *p, size_t n);

#endif

/* HTTP/1.1 message framing and authentication headers — RFC 9112, RFC 9110 11, RFC 4559, MS-WSMV. */
#ifndef HOPSCOPE_HTTP_H
#define HOPSCOPE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/*
 * The HTTP dissector: Authorization and WWW-Authenticate headers with NTLM, Negotiate, Kerberos, Basic
 * and CredSSP decoded into records; responses paired with requests in order (pipelining allowed); the
 * requests an authenticated connection then makes kept as its uses.
 */
extern const struct hs_dissector dis_http;

/* Probe: confidence (0-100) that n bytes at p start an HTTP/1.x request or response. */
int http_probe(const uint8_t *p, size_t n);

#endif

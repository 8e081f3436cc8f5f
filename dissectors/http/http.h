/* HTTP/1.1 message framing and authentication headers — RFC 9112, RFC 9110 11, RFC 4559, MS-WSMV. */
#ifndef HOPSCOPE_HTTP_H
#define HOPSCOPE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_engine;
struct hs_conn;
struct app_dir;
struct auth_rec;

/* Probe: confidence (0-100) that n bytes at p start an HTTP/1.x request or response. */
int http_probe(const uint8_t *p, size_t n);

/*
 * Parses HTTP/1.x messages from n in-order bytes at p, direction dir (0 requests, 1 responses) of
 * connection c: the header block is parsed whole (it must fit e->lim.max_pdu); bodies, whether
 * Content-Length, chunked or read-until-close, are skipped without buffering. Authorization and
 * WWW-Authenticate headers with NTLM, Negotiate, Kerberos, Basic and CredSSP are decoded and
 * applied to c's records; responses are paired with requests in order (pipelining allowed).
 * Returns the bytes consumed, 0 when a header block or chunk-size line is incomplete.
 * Malformed messages are counted (DIS_HTTP) and the stream resynchronised.
 */
size_t http_parse(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n,
                  struct app_dir *ad);

/* Drops references to r from c's HTTP state (r is being freed). */
void http_forget_rec(struct hs_conn *c, struct auth_rec *r);

/* Frees c's HTTP state. */
void http_free(struct hs_conn *c);

#endif

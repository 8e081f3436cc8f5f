/* Mechanism dispatch: one place where a security token, from any transport, becomes part of a record. */
#ifndef HOPSCOPE_MECH_H
#define HOPSCOPE_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "record.h"
#include "spnego.h"

/*
 * Parses a security blob (SMB2 SecurityBuffer, a decoded HTTP token, a DCE/RPC auth verifier) of n bytes
 * at p into t (spnego.h: bare NTLMSSP, GSS krb5, SPNEGO init/resp). Returns 0, or -1 for a malformed or
 * unrecognised blob, counted in ctx->st->malformed[DIS_SPNEGO].
 */
int gss_blob_parse(struct hs_ctx *ctx, const uint8_t *p, size_t n, struct gss_token *t);

/* True when the token starts a new authentication (NTLM NEGOTIATE, SPNEGO init, krb5 AP-REQ). */
bool gss_token_starts(const struct gss_token *t);

/* True for a client's final token: NTLM AUTHENTICATE, krb5 AP-REQ, or a mechListMIC-only SPNEGO leg. */
bool gss_token_is_final(const struct gss_token *t);

/*
 * Applies token t seen in direction dir (0 client→server) at ctx->frame to record r: NTLM messages are
 * parsed (MS-NLMP 2.2.1) and merged, Kerberos AP-REQ (RFC 4120 5.5.1) read, its ticket referenced by
 * digest and, with keys, decrypted with its authenticator; KRB-ERROR noted; the mechanism refined from
 * the token kind; SPNEGO negState and mechListMIC noted (RFC 4178 4.2). `bare_ntlm_scheme` is true when
 * HTTP carried it under the "NTLM" scheme (so bare NTLMSSP is `ntlm`, not `negotiate/ntlm`). Malformed
 * inner messages are counted (DIS_NTLMSSP, DIS_KERBEROS) and leave r as it was.
 */
void gss_apply(struct hs_ctx *ctx, struct auth_rec *r, const struct gss_token *t, int dir, bool bare_ntlm_scheme);

#endif

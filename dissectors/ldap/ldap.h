/* LDAP binds — RFC 4511 4.2 (Bind), RFC 4513 5.1 (simple), RFC 4752 (SASL GSSAPI), MS-ADTS 5.1.1.1 (sicily). */
#ifndef HOPSCOPE_LDAP_H
#define HOPSCOPE_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/*
 * The LDAP dissector (TCP 389 and 3268, and by content): LDAPMessages framed over the stream (BER, definite
 * lengths); BindRequest/BindResponse pairs become `auth` records with transport `ldap` — simple binds (the name,
 * never the password), SASL GSSAPI / GSS-SPNEGO / NTLM whose tokens go to the mechanism dispatch, and the
 * sicily NTLM binds. After a SASL bind, PDUs wrapped by the security layer are skipped; after a successful
 * StartTLS both directions are left alone.
 */
extern const struct hs_dissector dis_ldap;

/*
 * Probe: confidence (0-100) that n bytes at p start an LDAPMessage (RFC 4511 4.1.1): a SEQUENCE whose length
 * holds a messageID INTEGER (1-4 octets, not negative) and a protocolOp of a known [APPLICATION n] tag, primitive
 * or constructed as RFC 4511 defines it, that fits in the SEQUENCE. 100 when all of that was checked, 90 when
 * the bytes ended after a valid protocolOp tag, else 0.
 */
int ldap_probe(const uint8_t *p, size_t n);

#endif

/* Authentication in protocols hopscope does not dissect: NTLMSSP found by its signature. */
#ifndef HOPSCOPE_OTHER_H
#define HOPSCOPE_OTHER_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/* Bytes of each direction of an undissected TCP stream searched for NTLMSSP (the login phase of TDS,
 * SMTP/IMAP/POP3 AUTH NTLM ...); beyond, the connection is left alone. */
#define OTHER_SCAN_MAX (64u * 1024)

extern const struct hs_dissector dis_other;

/*
 * Where the next NTLMSSP message starts in the n bytes at p: raw ("NTLMSSP\0", MS-NLMP 2.2.1) or base64
 * ("TlRMTVNTUA", RFC 4648, as SMTP/IMAP/POP3 AUTH NTLM and HTTP carry it). Returns its offset and sets
 * *b64, or n when there is none.
 */
size_t other_find_ntlmssp(const uint8_t *p, size_t n, int *b64);

/*
 * The length of the raw NTLMSSP message at p (n bytes available, n >= 12): the end of its fixed header or of
 * its furthest payload field (MS-NLMP 2.2.1.1-2.2.1.3: NEGOTIATE 32, CHALLENGE 48, AUTHENTICATE 64 bytes of
 * header, fields as (Len u16, MaxLen u16, BufferOffset u32) little-endian), whichever is further; 0 when the
 * header is not all there yet, or the type is not 1, 2 or 3.
 */
size_t other_ntlmssp_extent(const uint8_t *p, size_t n);

/*
 * Where the next GSS-API InitialContextToken (RFC 2743 3.1: 0x60, a DER length, then the mechanism OID of
 * SPNEGO, Kerberos V5 or Microsoft's Kerberos) may start in the n bytes at p: raw (*b64 = 0: the tag, a
 * length and a known OID, or a header cut off by the end of the bytes) or base64 (*b64 = 1: 'Y' then
 * 'C'..'I' at the start of a base64 run, to be decoded and checked). Returns its offset, or n when none.
 */
size_t other_find_gss(const uint8_t *p, size_t n, int *b64);

/*
 * The length of the raw InitialContextToken at p (n bytes available): header plus DER length when the tag,
 * length (short form or 0x81..0x83, minimal) and one of the three OIDs are there; SIZE_MAX when what is there
 * agrees but the header is cut off; 0 when it is no token.
 */
size_t other_gss_extent(const uint8_t *p, size_t n);

#endif

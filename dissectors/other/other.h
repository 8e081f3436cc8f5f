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

#endif

/* The PAC and its NDR parsing — MS-PAC 2.3-2.10, MS-RPCE 2.2.6, MS-DTYP 2.4.2; AuthorizationData (RFC 4120 5.2.6). */
#ifndef HOPSCOPE_PAC_H
#define HOPSCOPE_PAC_H

#include <stddef.h>
#include <stdint.h>

#include "kctypes.h" /* struct kc_ticket, whose PAC fields these fill */

/* Most PAC_INFO_BUFFERs accepted in one PACTYPE (real PACs have fewer than 20). */
#define KC_PAC_MAX_BUFFERS 256
/* Deepest AD-IF-RELEVANT nesting followed. */
#define KC_AD_MAX_DEPTH 4

/*
 * Every parser here takes bytes that came from the network (after decryption, but a key holder can
 * still send anything), never reads outside p[n], and returns -1 for a NULL p or t.
 */

/*
 * AuthorizationData (RFC 4120 5.2.6) in DER: SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1]
 * OCTET STRING }, p[n] starting at the outer SEQUENCE's tag. The content of AD-IF-RELEVANT (ad-type 1,
 * 5.2.6.1) is AuthorizationData again and is followed while depth (0 for the caller) stays within
 * KC_AD_MAX_DEPTH; an AD-WIN2K-PAC (ad-type 128) is decoded with kc_parse_pac unless t->has_pac is
 * already set. Elements of other types and ones without ad-data are skipped; a malformed nested list or
 * PAC is ignored. Returns 0, or -1 when this level's encoding is malformed or depth exceeds
 * KC_AD_MAX_DEPTH.
 */
int kc_parse_authorization_data(const uint8_t *p, size_t n, struct kc_ticket *t, int depth);

/*
 * PACTYPE (MS-PAC 2.3), all little-endian: cBuffers (4 bytes, 1..KC_PAC_MAX_BUFFERS), Version (4, must be
 * 0), then cBuffers PAC_INFO_BUFFERs (MS-PAC 2.4) { ulType (4), cbBufferSize (4), Offset (8) }, Offset
 * counted from the start of p. Every descriptor is checked — [Offset, Offset + cbBufferSize) inside p[n] —
 * before anything is decoded. Then t's PAC fields are cleared and the first buffer of each of these types
 * decoded: 1 KERB_VALIDATION_INFO (kc_parse_logon_info), 10 PAC_CLIENT_INFO (whose name stands in for
 * pac_user when the logon info gave none), 12 UPN_DNS_INFO; a malformed buffer leaves its fields empty
 * without failing the PAC. Other types, signatures included, are not checked.
 * Returns 0 with t->has_pac true, or -1 (has_pac false, t's PAC fields untouched) when the header or any
 * buffer descriptor is bad.
 */
int kc_parse_pac(const uint8_t *p, size_t n, struct kc_ticket *t);

/*
 * KERB_VALIDATION_INFO (MS-PAC 2.5) in its NDR type serialization version 1 (MS-RPCE 2.2.6): Common Type
 * Header (version 1, little-endian 0x10, length 8), Private Header (ObjectBufferLength, which must fit
 * in p[n]), then the structure's fixed part and its deferred referents in pointer order, all NDR
 * little-endian with 4-byte alignment counted from p. Fills pac_user (EffectiveName) and pac_domain
 * (LogonDomainName, UTF-16LE → UTF-8) as they are decoded, and only once the whole structure decoded,
 * user_sid (LogonDomainId + UserId) and group_sids: the domain groups (LogonDomainId + RID), ExtraSids,
 * then the resource groups (ResourceGroupDomainSid + RID). When they exceed KC_MAX_SIDS, domain groups
 * give way so that ExtraSids and resource groups are kept. Returns 0, or -1 when malformed (a bad header,
 * a count that disagrees with its conformance, a SID with more than 15 sub-authorities, data past the
 * object).
 */
int kc_parse_logon_info(const uint8_t *p, size_t n, struct kc_ticket *t);

/*
 * PAC_CLIENT_INFO (MS-PAC 2.7), little-endian: ClientId (FILETIME, 8 bytes), NameLength (2, in bytes),
 * Name (UTF-16LE). Writes the name as UTF-8 into name[cap] ("" when NameLength is 0). Returns 0, or -1
 * when name is NULL, cap is 0 or the name runs past p[n] (name untouched).
 */
int kc_parse_client_info(const uint8_t *p, size_t n, char *name, size_t cap);

/*
 * UPN_DNS_INFO (MS-PAC 2.10), little-endian: UpnLength, UpnOffset, DnsDomainNameLength,
 * DnsDomainNameOffset (2 bytes each, lengths in bytes, offsets from the start of p), Flags (4). Both
 * strings (UTF-16LE) must lie inside p[n]; they go to pac_upn and pac_dns_domain as UTF-8. The extended
 * SamName / Sid fields are not read. Returns 0, or -1 (t untouched) when the header is short or a string
 * is out of range.
 */
int kc_parse_upn_dns_info(const uint8_t *p, size_t n, struct kc_ticket *t);

#endif

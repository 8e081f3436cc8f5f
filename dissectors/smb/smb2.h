/* NetBIOS session service framing (RFC 1002 4.3, MS-SMB2 2.1) and SMB2/3 (MS-SMB2 2.2). */
#ifndef HOPSCOPE_SMB2_H
#define HOPSCOPE_SMB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_engine;
struct hs_conn;
struct app_dir;
struct auth_rec;

/* SMB2 commands, MS-SMB2 2.2.1.2 */
#define SMB2_NEGOTIATE       0x0000
#define SMB2_SESSION_SETUP   0x0001
#define SMB2_LOGOFF          0x0002
#define SMB2_TREE_CONNECT    0x0003

#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMB2_FLAGS_ASYNC_COMMAND   0x00000002u
#define SMB2_FLAGS_RELATED_OPERATIONS 0x00000004u

/* SessionFlags of SESSION_SETUP response, MS-SMB2 2.2.6 */
#define SMB2_SESSION_FLAG_IS_GUEST     0x0001
#define SMB2_SESSION_FLAG_IS_NULL      0x0002
#define SMB2_SESSION_FLAG_ENCRYPT_DATA 0x0004

#define STATUS_SUCCESS                  0x00000000u
#define STATUS_PENDING                  0x00000103u
#define STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u

/*
 * Probe: confidence (0-100) that the n bytes at p start an NBSS-framed SMB stream
 * (a session message whose payload starts with \xFE/\xFF/\xFD/\xFC "SMB", or a session request).
 */
int nbss_probe(const uint8_t *p, size_t n);

/*
 * Parses NBSS frames from n in-order bytes at p, direction dir (0 client→server) of connection c.
 * Each frame is a 4-byte header (type u8, length u24 big-endian) and its payload. SMB2 messages
 * whose commands matter to authentication are parsed whole (up to e->lim.max_pdu); others are
 * read as far as their 64-byte header and the rest skipped (ad->skip). Returns the bytes consumed;
 * 0 means a frame is incomplete (the caller buffers and calls again with more). In resync mode
 * (ad->resync) it hunts for a plausible frame start first. Malformed frames are counted.
 */
size_t nbss_parse(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *p, size_t n,
                  struct app_dir *ad);

/*
 * Parses one SMB2 message (n bytes at msg, possibly compounded via NextCommand, MS-SMB2 3.2.4.1.4)
 * travelling in direction dir, and updates c's authentication records. Little-endian throughout;
 * every offset is checked against the message. Malformed input is counted in DIS_SMB2.
 */
void smb2_message(struct hs_engine *e, struct hs_conn *c, int dir, const uint8_t *msg, size_t n);

/* Drops references to r from c's SMB2 state (r is being freed). */
void smb2_forget_rec(struct hs_conn *c, struct auth_rec *r);

/* Frees c's SMB2 state. */
void smb2_free(struct hs_conn *c);

#endif

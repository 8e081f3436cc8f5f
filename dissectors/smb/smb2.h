/* NetBIOS session service framing (RFC 1002 4.3, MS-SMB2 2.1) and SMB2/3 (MS-SMB2 2.2). */
#ifndef HOPSCOPE_SMB2_H
#define HOPSCOPE_SMB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

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

#define SMB2_HEADER_LEN 64

/* The NBSS dissector (TCP 139 and 445): frames SMB1/SMB2/3 messages for their parsers. */
extern const struct hs_dissector dis_nbss;

/*
 * Probe: confidence (0-100) that the n bytes at p start an NBSS-framed SMB stream
 * (a session message whose payload starts with \xFE/\xFF/\xFD/\xFC "SMB", or a session request).
 */
int nbss_probe(const uint8_t *p, size_t n);

/* SMB2 state of one connection (pending requests, dialect); allocated on the first message that needs it. */
struct smb2_state;

struct smb_pipes;

/*
 * Does the SMB2 parser need the whole message whose 64-byte header (MS-SMB2 2.2.1.2) is at h, or is the
 * header enough (bulk READ/WRITE... are skipped unread)? True for NEGOTIATE, SESSION_SETUP, LOGOFF,
 * TREE_CONNECT, compounded messages, and CREATE/CLOSE/READ/WRITE/IOCTL on a tree connected to IPC$ (the
 * named pipes: s is the connection's state, NULL before any).
 */
bool smb2_wants_whole(const struct smb2_state *s, const uint8_t *h);

/*
 * Parses one SMB2 message (n bytes at msg, possibly compounded via NextCommand, MS-SMB2 3.2.4.1.4)
 * travelling in direction dir, and updates the connection's authentication records; data written to and
 * read from named pipes goes to *pipes (pipe.h; created here on the first pipe). *s is the connection's
 * SMB2 state (allocated here when NULL). Little-endian throughout; every offset is checked against the
 * message. Malformed input is counted in DIS_SMB2.
 */
void smb2_message(struct hs_ctx *ctx, struct smb2_state **s, struct smb_pipes **pipes, int dir, const uint8_t *msg,
                  size_t n);

/* Frees SMB2 state (NULL is fine). */
void smb2_state_free(struct smb2_state *s);

#endif

/* SMB1 (CIFS) — MS-CIFS 2.2.3-2.2.4 and the MS-SMB extensions: negotiation, session setup, trees, pipes. */
#ifndef HOPSCOPE_SMB1_H
#define HOPSCOPE_SMB1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

#define SMB1_HEADER_LEN 32

/* Commands, MS-CIFS 2.2.2.1 */
#define SMB_COM_CLOSE                 0x04
#define SMB_COM_LOCKING_ANDX          0x24
#define SMB_COM_TRANSACTION           0x25
#define SMB_COM_TRANSACTION_SECONDARY 0x26
#define SMB_COM_OPEN_ANDX             0x2D
#define SMB_COM_READ_ANDX             0x2E
#define SMB_COM_WRITE_ANDX            0x2F
#define SMB_COM_TREE_DISCONNECT       0x71
#define SMB_COM_NEGOTIATE             0x72
#define SMB_COM_SESSION_SETUP_ANDX    0x73
#define SMB_COM_LOGOFF_ANDX           0x74
#define SMB_COM_TREE_CONNECT_ANDX     0x75
#define SMB_COM_NT_CREATE_ANDX        0xA2
#define SMB_COM_NO_ANDX_COMMAND       0xFF

/* Flags and Flags2, MS-CIFS 2.2.3.1 (and MS-SMB 2.2.3.1 for SECURITY_SIGNATURE_REQUIRED) */
#define SMB_FLAGS_REPLY                         0x80
#define SMB_FLAGS2_SMB_SECURITY_SIGNATURE          0x0004
#define SMB_FLAGS2_SMB_SECURITY_SIGNATURE_REQUIRED 0x0010
#define SMB_FLAGS2_EXTENDED_SECURITY               0x0800
#define SMB_FLAGS2_NT_STATUS                       0x4000
#define SMB_FLAGS2_UNICODE                         0x8000

/* NEGOTIATE response SecurityMode, MS-CIFS 2.2.4.52.2 */
#define NEGOTIATE_USER_SECURITY                0x01
#define NEGOTIATE_ENCRYPT_PASSWORDS            0x02
#define NEGOTIATE_SECURITY_SIGNATURES_ENABLED  0x04
#define NEGOTIATE_SECURITY_SIGNATURES_REQUIRED 0x08

/* NEGOTIATE response Capabilities, MS-CIFS 2.2.4.52.2 / MS-SMB 2.2.4.5.2 (the ones read here) */
#define CAP_UNICODE           0x00000004u
#define CAP_STATUS32          0x00000040u
#define CAP_EXTENDED_SECURITY 0x80000000u

/* SESSION_SETUP_ANDX response Action, MS-CIFS 2.2.4.53.2 */
#define SMB_SETUP_GUEST          0x0001
#define SMB_SETUP_USE_LANMAN_KEY 0x0002

/* TRANSACTION subcommand on a named pipe, MS-CIFS 2.2.5.5 */
#define TRANS_TRANSACT_NMPIPE 0x0026

/* SMB1 state of one connection (dialects, trees, pipes, requests awaiting their response). */
struct smb1_state;
struct smb_pipes;

/*
 * Does the SMB1 parser need the whole message of len bytes whose 32-byte header (MS-CIFS 2.2.3.1) is at
 * h, or is the header enough (file I/O is skipped unread)? True for NEGOTIATE, SESSION_SETUP_ANDX,
 * LOGOFF_ANDX, TREE_CONNECT_ANDX, TREE_DISCONNECT, NT_CREATE_ANDX, CLOSE and TRANSACTION (pipe calls);
 * for READ_ANDX and WRITE_ANDX on a tree known to be IPC$; and for any other AndX command of at most
 * 4 KiB, whose chain may hold one of these. s may be NULL (nothing known yet).
 */
bool smb1_wants_whole(const struct smb1_state *s, const uint8_t *h, size_t len);

/*
 * Parses one SMB1 message (n bytes at msg, starting with its header; AndX chains followed, MS-CIFS
 * 2.2.3.4) travelling in direction dir, and updates the connection's authentication records: NEGOTIATE
 * (dialect, security mode, the server challenge), SESSION_SETUP_ANDX in both forms (security blob to the
 * mechanism dispatch; LM/NT responses classified by ntlm_classify()), TREE_CONNECT_ANDX (a use of the
 * session's record), LOGOFF_ANDX (the session's records written). Pipes on IPC$ go to the pipe layer
 * (pipe.h): NT_CREATE_ANDX opens, TRANSACTION/TransactNmPipe, WRITE_ANDX and READ_ANDX carry data, CLOSE
 * closes; *pipes is allocated at the first pipe. *s is allocated here when NULL. Little-endian throughout;
 * every count and offset is checked against the message; malformed input is counted in DIS_SMB1.
 */
void smb1_message(struct hs_ctx *ctx, struct smb1_state **s, struct smb_pipes **pipes, int dir, const uint8_t *msg,
                  size_t n);

/*
 * A message skipped after its header (bulk file I/O, or over the PDU cap): only its 32-byte header at h is
 * read, for the signatures noted after a session setup (MS-CIFS 3.1.5.1).
 */
void smb1_header_only(struct hs_ctx *ctx, struct smb1_state **s, int dir, const uint8_t *h);

/* Frees SMB1 state (NULL is fine). */
void smb1_state_free(struct smb1_state *s);

/* Names for the writers: a SecurityMode bit, a Capabilities bit, an Action bit (NULL when unnamed), and a
 * command ("SESSION_SETUP_ANDX"; NULL when unknown). */
const char *smb1_security_mode_name(uint32_t bit);
const char *smb1_capability_name(uint32_t bit);
const char *smb1_action_name(uint32_t bit);
const char *smb1_command_name(uint8_t cmd);

#endif

/* Named pipes of an SMB connection (IPC$): each pipe carries a DCE/RPC stream per direction. */
#ifndef HOPSCOPE_PIPE_H
#define HOPSCOPE_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/* The pipes open on one SMB connection (SMB1 or SMB2), at most SMB_PIPES_MAX at once. */
#define SMB_PIPES_MAX 32
struct smb_pipes;

/* An empty set of pipes; NULL when memory is short. */
struct smb_pipes *smb_pipes_new(void);

/* Frees the pipes and their streams (NULL is fine). */
void smb_pipes_free(struct smb_pipes *p, struct hs_ctx *ctx);

/*
 * A pipe was opened: `key` identifies it on the connection (SMB2 FileId, persistent and volatile parts
 * folded; SMB1 FID), `name` is the pipe name without "\\PIPE\\" (e.g. "samr", "lsarpc"; UTF-8), `carrier`
 * the id of the authentication record of the SMB session that opened it (0 if unknown). A pipe already
 * open under key is replaced; beyond SMB_PIPES_MAX the oldest is closed.
 */
void smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier);

/*
 * n bytes written to (dir 0: WRITE, the request half of a TRANSCEIVE/TransactNmPipe) or read from (dir 1:
 * READ, the response half) pipe `key`, in the order the server handled them. They go to the pipe's
 * DCE/RPC stream of that direction. Data for a pipe not seen opened opens it with an empty name (a
 * capture that started after the CREATE).
 */
void smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data, size_t n);

/* n bytes of pipe `key` in direction dir were not seen (a READ/WRITE larger than what was kept): its
 * stream resynchronises. */
void smb_pipe_gap(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, uint64_t n);

/* The pipe was closed (SMB2 CLOSE, SMB1 CLOSE): its stream ends. */
void smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key);

#endif

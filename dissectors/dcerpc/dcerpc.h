/* Connection-oriented DCE/RPC — C706 chapter 12, MS-RPCE 2.2: binds, security contexts, calls, verdicts. */
#ifndef HOPSCOPE_DCERPC_H
#define HOPSCOPE_DCERPC_H

#include <stddef.h>
#include <stdint.h>

#include "dissector.h"

/*
 * The DCE/RPC dissector over TCP (the endpoint mapper on 135, RPC over HTTP's 593, and any port by
 * content: the dynamic ports the endpoint mapper hands out). Over an SMB named pipe the same parser runs
 * on the pipe's streams (dissectors/smb/pipe.c), set up with dcerpc_state_new_pipe().
 */
extern const struct hs_dissector dis_dcerpc;

/* Probe: confidence (0-100) that n bytes at p start a connection-oriented DCE/RPC PDU (version 5.0/5.1, a
 * PDU type a client or server opens with, a sane frag_length). */
int dcerpc_probe(const uint8_t *p, size_t n);

/* State of a DCE/RPC association carried by SMB named pipe `pipe` (UTF-8, cut to fit), inside the SMB
 * session whose authentication record is `carrier` (0 if unknown). Free it with dis_dcerpc.state_free. */
void *dcerpc_state_new_pipe(struct hs_ctx *ctx, const char *pipe, uint64_t carrier);

#endif

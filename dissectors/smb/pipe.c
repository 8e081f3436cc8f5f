/* Named pipes of an SMB connection (pipe.h) — a stub that tracks nothing, until the DCE/RPC pipe work lands. */
#include "pipe.h"

#include <stdlib.h>

/* The real implementation keeps a DCE/RPC stream per pipe and direction; the stub keeps nothing. */
struct smb_pipes {
    int unused;
};

struct smb_pipes *smb_pipes_new(void)
{
    return calloc(1, sizeof(struct smb_pipes));
}

void smb_pipes_free(struct smb_pipes *p, struct hs_ctx *ctx)
{
    (void)ctx;
    free(p);
}

void smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier)
{
    (void)ctx, (void)p, (void)key, (void)name, (void)carrier;
}

void smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data, size_t n)
{
    (void)ctx, (void)p, (void)key, (void)dir, (void)data, (void)n;
}

void smb_pipe_gap(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, uint64_t n)
{
    (void)ctx, (void)p, (void)key, (void)dir, (void)n;
}

void smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key)
{
    (void)ctx, (void)p, (void)key;
}

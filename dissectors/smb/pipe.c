/* Named pipes of an SMB connection (MS-SMB2 3.3.5.9-3.3.5.15.5, MS-CIFS 2.2.4.33): DCE/RPC, one stream a direction. */
#include "pipe.h"

#include <stdlib.h>
#include <string.h>

#include "dcerpc.h"
#include "util.h"

struct smb_pipe {
    bool used;
    uint64_t key;
    uint64_t age;              /* open order, for eviction */
    void *rpc;                 /* the DCE/RPC association's state */
    struct hs_stream st[2];
};

struct smb_pipes {
    struct smb_pipe p[SMB_PIPES_MAX];
    uint64_t next_age;
};

struct smb_pipes *smb_pipes_new(void)
{
    return calloc(1, sizeof(struct smb_pipes));
}

static void pipe_end(struct hs_ctx *ctx, struct smb_pipe *pp)
{
    for (int d = 0; d < 2; d++)
        stream_release(&pp->st[d], ctx);
    dis_dcerpc.state_free(pp->rpc);
    memset(pp, 0, sizeof *pp);
}

void smb_pipes_free(struct smb_pipes *p, struct hs_ctx *ctx)
{
    if (!p)
        return;
    for (int i = 0; i < SMB_PIPES_MAX; i++)
        if (p->p[i].used)
            pipe_end(ctx, &p->p[i]);
    free(p);
}

static struct smb_pipe *find(struct smb_pipes *p, uint64_t key)
{
    for (int i = 0; i < SMB_PIPES_MAX; i++)
        if (p->p[i].used && p->p[i].key == key)
            return &p->p[i];
    return NULL;
}

/* A slot for a new pipe: a free one, else the oldest pipe is closed. */
static struct smb_pipe *slot(struct hs_ctx *ctx, struct smb_pipes *p)
{
    struct smb_pipe *old = &p->p[0];
    for (int i = 0; i < SMB_PIPES_MAX; i++) {
        if (!p->p[i].used)
            return &p->p[i];
        if (p->p[i].age < old->age)
            old = &p->p[i];
    }
    pipe_end(ctx, old);
    return old;
}

static struct smb_pipe *open_pipe(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name,
                                  uint64_t carrier)
{
    struct smb_pipe *pp = find(p, key);
    if (pp)
        pipe_end(ctx, pp);
    else
        pp = slot(ctx, p);
    /* "\\PIPE\\samr" (SMB1) or "samr" (SMB2): the name without the prefix */
    if (has_prefix_ci(name, strlen(name), "\\PIPE\\"))
        name += 6;
    while (*name == '\\')
        name++;
    pp->rpc = dcerpc_state_new_pipe(ctx, name, carrier);
    if (!pp->rpc)
        return NULL;
    pp->used = true;
    pp->key = key;
    pp->age = ++p->next_age;
    return pp;
}

void smb_pipe_open(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, const char *name, uint64_t carrier)
{
    open_pipe(ctx, p, key, name, carrier);
}

void smb_pipe_data(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, const uint8_t *data, size_t n)
{
    struct smb_pipe *pp = find(p, key);
    if (!pp) {
        /* The CREATE was not captured: the first bytes seen may be inside a PDU. */
        pp = open_pipe(ctx, p, key, "", 0);
        if (!pp)
            return;
        pp->st[0].resync = pp->st[1].resync = true;
    }
    stream_feed(&pp->st[dir], ctx, dis_dcerpc.parse, pp->rpc, dir, data, n);
}

void smb_pipe_gap(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key, int dir, uint64_t n)
{
    struct smb_pipe *pp = find(p, key);
    if (pp)
        stream_gap(&pp->st[dir], ctx, pp->rpc, dir, n);
}

void smb_pipe_close(struct hs_ctx *ctx, struct smb_pipes *p, uint64_t key)
{
    struct smb_pipe *pp = find(p, key);
    if (pp)
        pipe_end(ctx, pp);
}

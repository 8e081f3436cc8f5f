/* The hop graph: hosts and the authenticated sessions between them, built from record summaries and findings. */
#ifndef HOPSCOPE_GRAPH_H
#define HOPSCOPE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "findings.h"
#include "records.h"

#define GRAPH_EDGES_MAX 20000u    /* edges kept; later sessions are counted in edges_dropped */
#define GRAPH_FINDINGS_MAX 4096u  /* findings kept for the graph; the rest are counted in findings_dropped */
#define GRAPH_EDGE_FINDINGS 4     /* findings named on one edge */
#define GRAPH_ADDRS_LEN 160       /* a node's addresses, joined with ", " (cut, with "...", past this) */

/* What the first hop's server held to act for the user on a second hop. */
enum graph_deleg {
    GDELEG_NA = 0,         /* not a second hop */
    GDELEG_NONE,           /* nothing seen: no forwarded TGT, no S4U2Proxy, not CredSSP */
    GDELEG_FORWARDED_TGT,  /* a decrypted authenticator carried a KRB-CRED, or A asked the KDC with U's TGT */
    GDELEG_S4U2PROXY,      /* A asked the KDC for a ticket on U's behalf (MS-SFU 3.2.5.2), granted */
    GDELEG_S4U2PROXY_REFUSED, /* ... and was refused */
    GDELEG_CREDSSP,        /* the first hop was CredSSP: A holds U's password (MS-CSSP) */
};

enum graph_edge_kind {
    GEDGE_SESSION = 0,     /* one authentication record: client -> server */
    GEDGE_KDC,             /* one KDC exchange: an S4U one, a refused one, or one a finding rests on */
    GEDGE_KDC_SUMMARY,     /* the other KDC exchanges of a client and KDC, counted */
    GEDGE_NO_SESSION,      /* a second hop that never started (S4U2Proxy refused): A -> B by B's name */
};

/* A host: the addresses host identity (hosts.h) puts together, and its best name. */
struct graph_node {
    char name[64];                 /* "" when no name was learned */
    char addrs[GRAPH_ADDRS_LEN];   /* "10.201.1.20, 10.201.1.21"; "" for a host known only by name */
    uint32_t naddrs;
    char kdc_realm[64];            /* it answered KDC exchanges: the realm asked for ("HOPLAB.TEST") */
    uint32_t nsessions_in, nsessions_out, nfailed_in;
};

struct graph_edge {
    enum graph_edge_kind kind;
    uint32_t from, to;             /* node indexes */
    uint64_t id;                   /* the record's id (0 for a summary or a missing session) */
    struct timeval ts;
    char user[128];                /* who: "DOMAIN\\user", a Kerberos client, "" for nobody */
    bool anonymous;
    char mech[24];                 /* the record's `mechanism`, or the KDC exchange kind ("s4u2proxy") */
    char transport[12];            /* "smb2", "http", ... "kerberos" */
    char service[48];              /* "cifs", "winrm", a DCE/RPC interface; for KDC exchanges the sname */
    enum auth_result result;
    bool failed;                   /* refused, or a use of the session was denied */
    char status[48];               /* the verdict's name ("STATUS_LOGON_FAILURE", "KDC_ERR_BADOPTION", "200") */
    char use_denied[96];           /* the use that was denied, when one was */
    uint64_t f_first, f_verdict;   /* frames */
    uint32_t count;                /* GEDGE_KDC_SUMMARY: how many exchanges */
    uint32_t merged, merged_failed; /* a drawing that merges edges (report_merge()): sessions, failed ones */
    bool second_hop;               /* from the server of an earlier successful session, inside the hop window */
    enum graph_deleg deleg;
    uint64_t via;                  /* second hop: the record id of the first hop */
    const char *sensor, *via_sensor; /* hopscope --records: the sensors of id and via; NULL in a capture's run */
    uint32_t nfindings;
    uint32_t findings[GRAPH_EDGE_FINDINGS]; /* indexes into hop_graph.findings */
};

struct graph_finding {
    struct hs_finding f;
    uint32_t edges[FINDING_EVIDENCE_MAX + 1]; /* the edges its records (and missing session) are */
    uint32_t nedges;
    uint32_t nodes[3];             /* client, first hop, second hop: node indexes, UINT32_MAX if none */
};

struct hop_graph {
    struct graph_node *nodes;
    size_t n_nodes;
    struct graph_edge *edges;      /* sessions in time order, then KDC exchanges, summaries, missing hops */
    size_t n_edges;
    struct graph_finding *findings;
    size_t n_findings;
    uint64_t edges_dropped, findings_dropped;
};

/*
 * Builds the hop graph from n_a authentication and n_k KDC summaries (any order) and the n_f findings made
 * from them. Nodes are hosts (host identity, hosts.h: the addresses of one host are one node), plus a node for
 * a host a finding names only by name (an S4U2Proxy target); edges are one per session (auth record), one per
 * S4U or refused KDC exchange (KDC_ERR_PREAUTH_REQUIRED and KRB_ERR_RESPONSE_TOO_BIG are routine, not
 * refusals), one per (client, KDC) pair for the other exchanges, and one per second hop that never started.
 * A session from the server A of an earlier successful, named session C -> A that starts within
 * cfg->hop_window seconds of it is a second hop, labelled with what A held to delegate (enum graph_deleg).
 * Each finding is tied to the edges of the records it rests on. At most GRAPH_EDGES_MAX edges and
 * GRAPH_FINDINGS_MAX findings (the rest counted). O((n_a + n_k + n_f) log(n_a + n_k)) time, plus at most
 * 4096 candidates looked at per session. Returns NULL when memory is short.
 */
struct hop_graph *graph_build(const struct findings_cfg *cfg, const struct fsum_auth *a, size_t n_a,
                              const struct fsum_kdc *k, size_t n_k, const struct hs_finding *f, size_t n_f);

/* The delegation kind as the graph writes it: "none", "forwarded TGT", "S4U2Proxy", "S4U2Proxy refused",
 * "CredSSP"; "" for GDELEG_NA. */
const char *graph_deleg_name(enum graph_deleg d);

void graph_free(struct hop_graph *g);

#endif

/* Host identity: the addresses a host uses and the names it is known by, learned from record summaries. */
#ifndef HOPSCOPE_HOSTS_H
#define HOPSCOPE_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

#define HOST_NAME_MAX_LEN 64

/* How a name was learned, from the least to the most telling for naming a host to a person: the names a
 * client used to reach a server (an SPN, a tree path) are those people know it by; what a server says of
 * itself comes next; what a client says of itself last, and it is dropped when another address is known by it. */
enum host_name_src {
    HNAME_NONE = 0,
    HNAME_WORKSTATION,   /* NTLM AUTHENTICATE Workstation: what the client says it is */
    HNAME_NETLOGON,      /* NETLOGON NL_AUTH_MESSAGE computer name: what the client says it is */
    HNAME_MACHINE,       /* a KDC exchange by the machine account HOST$ from that address */
    HNAME_NB_COMPUTER,   /* NTLM CHALLENGE MsvAvNbComputerName: what the server says it is */
    HNAME_DNS_COMPUTER,  /* NTLM CHALLENGE MsvAvDnsComputerName: what the server says it is */
    HNAME_TREE,          /* the host part of an SMB tree path the client asked for (\\host\share) */
    HNAME_SPN,           /* the host part of a Kerberos ticket's SPN or an NTLMv2 MsvAvTargetName */
};

/* One address: its best name, and the host (group of addresses) it belongs to. */
struct host_entry {
    uint8_t af;
    uint8_t ip[16];
    char name[HOST_NAME_MAX_LEN];   /* best name so far, lower case; "" when none was learned */
    uint8_t src;                    /* enum host_name_src of name */
    char dns[HOST_NAME_MAX_LEN];    /* the server-asserted DNS computer name: addresses sharing it are one host */
    uint32_t group;                 /* index of the group's representative entry */
};

/* Addresses sorted by (af, ip); lookups are binary searches. */
struct host_table {
    struct host_entry *v;
    size_t n;
};

/*
 * Builds the table from n authentication and nk KDC summaries: every client and server address, named by
 * the most trustworthy name any record gives it (enum host_name_src), and grouped: addresses whose servers
 * named themselves with the same DNS computer name in an NTLM CHALLENGE (MS-NLMP 2.2.2.1
 * MsvAvDnsComputerName) are one host. Names a client asserts (Workstation, NETLOGON computer) label an
 * address but never merge two. O((n + nk) log(n + nk)) time, one allocation. Returns 0, or -1 without
 * memory (the table is then empty and every lookup falls back to the address).
 */
int hosts_build(struct host_table *t, const struct fsum_auth *a, size_t n, const struct fsum_kdc *k, size_t nk);

/* The host an address belongs to: a stable id (equal for two addresses of one host); UINT32_MAX if unknown. */
uint32_t hosts_id(const struct host_table *t, uint8_t af, const uint8_t ip[16]);

/* The best name of an address's host ("" when none); valid while the table lives. */
const char *hosts_name(const struct host_table *t, uint8_t af, const uint8_t ip[16]);

/* "name (address)" when a name is known, else the address, into out[cap] (cut to fit). */
void hosts_label(const struct host_table *t, uint8_t af, const uint8_t ip[16], char *out, size_t cap);

/* The host part of an SPN ("cifs/dc1.hoplab.test:445@REALM" -> "dc1.hoplab.test"), lower case; "" if none. */
void hosts_spn_host(const char *spn, char *out, size_t cap);

/* "HOST$@REALM" (a machine account's principal) -> "HOST" into out[cap] (cap > 1); "" for anything else, and
 * for a name that does not fit. What a KDC exchange's client name says of the host it came from. */
void hosts_machine_name(const char *cname, char *out, size_t cap);

void hosts_free(struct host_table *t);

#endif

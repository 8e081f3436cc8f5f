/* The dissector registry: every protocol hopscope dissects, in probe order. A new protocol is one line here. */
#include <stddef.h>

#include "dcerpc.h"
#include "dissector.h"
#include "http.h"
#include "kdc.h"
#include "ldap.h"
#include "other.h"
#include "smb2.h"

/* TLS (RFC 8446 5.1: a handshake record, legacy version 3.x): recognised so that its connection is not
 * reassembled at all; not dissected. */
static int tls_probe(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0x16 && p[1] == 0x03 ? 100 : 0;
}

static const uint16_t tls_ports[] = {443, 636, 5986, 0};

static const struct hs_dissector dis_tls = {
    .name = "tls",
    .transport = 6,
    .ports = tls_ports,
    .probe = tls_probe,
    .threshold = 100,
};

const struct hs_dissector *const hs_dissectors[] = {
    &dis_nbss,
    &dis_http,
    &dis_kerberos_tcp,
    &dis_ldap,
    &dis_kerberos_udp,
    &dis_dcerpc,
    &dis_tls,
    NULL,
};

const struct hs_dissector *registry_fallback(uint8_t proto)
{
    return proto == 6 ? &dis_other : NULL;
}

const struct hs_dissector *registry_probe(uint8_t proto, const uint8_t *p, size_t n)
{
    for (size_t i = 0; hs_dissectors[i]; i++) {
        const struct hs_dissector *d = hs_dissectors[i];
        if (d->transport == proto && d->probe && d->probe(p, n) >= d->threshold)
            return d;
    }
    return NULL;
}

static bool listed(const uint16_t *ports, uint16_t port)
{
    for (; ports && *ports; ports++)
        if (*ports == port)
            return true;
    return false;
}

const struct hs_dissector *registry_by_port(uint8_t proto, uint16_t port)
{
    for (size_t i = 0; hs_dissectors[i]; i++)
        if (hs_dissectors[i]->transport == proto && listed(hs_dissectors[i]->ports, port))
            return hs_dissectors[i];
    return NULL;
}

bool registry_server_port(uint16_t port)
{
    for (size_t i = 0; hs_dissectors[i]; i++)
        if (listed(hs_dissectors[i]->ports, port))
            return true;
    return false;
}

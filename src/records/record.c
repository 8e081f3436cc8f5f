/* The record model's names: mechanisms, results, transports, typed statuses, principals. */
#include "record.h"

#include <stdio.h>
#include <string.h>

#include "names.h"
#include "util.h"

const char *kdc_kind_name(enum kdc_kind k)
{
    static const char *const names[] = {"as", "tgs", "s4u2self", "s4u2proxy", "u2u", "renew", "validate", "unknown"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

static const struct tok name_types[] = {
    {0, "NT-UNKNOWN"}, {1, "NT-PRINCIPAL"}, {2, "NT-SRV-INST"}, {3, "NT-SRV-HST"}, {4, "NT-SRV-XHST"},
    {5, "NT-UID"}, {6, "NT-X500-PRINCIPAL"}, {7, "NT-SMTP-NAME"}, {10, "NT-ENTERPRISE"}, {11, "NT-WELLKNOWN"},
    {(uint32_t)-128, "NT-MS-PRINCIPAL"}, {(uint32_t)-129, "NT-MS-PRINCIPAL-AND-ID"},
    {(uint32_t)-130, "NT-ENT-PRINCIPAL-AND-ID"}, {0, NULL},
};

const char *krb_name_type_name(int32_t t)
{
    return tok_name(name_types, (uint32_t)t);
}

void kdc_principal_join(char *out, size_t cap, const char *name, const char *realm)
{
    size_t o = 0;
    out[0] = '\0';
    if (!name[0])
        return;
    for (const char *p = name; *p && o + 1 < cap; p++)
        out[o++] = *p;
    if (strchr(name, '@')) { /* an enterprise name (NT-ENTERPRISE) already carries its realm */
        out[o] = '\0';
        return;
    }
    if (realm[0] && o + 1 < cap)
        out[o++] = '@';
    for (const char *p = realm; *p && o + 1 < cap; p++)
        out[o++] = *p;
    out[o] = '\0';
}

static const struct tok mech_names[] = {
    {AMECH_NTLM, "ntlm"},
    {AMECH_NEGOTIATE_NTLM, "negotiate/ntlm"},
    {AMECH_NEGOTIATE_KERBEROS, "negotiate/kerberos"},
    {AMECH_KERBEROS, "kerberos"},
    {AMECH_NEGOTIATE, "negotiate"},
    {AMECH_BASIC, "basic"},
    {AMECH_CREDSSP, "credssp"},
    {AMECH_NETLOGON, "netlogon"},
    {0, NULL},
};

const char *auth_mech_name(enum auth_mech m)
{
    const char *n = tok_name(mech_names, m);
    return n ? n : "unknown";
}

const char *auth_result_name(enum auth_result r)
{
    return r == RESULT_SUCCESS ? "success" : r == RESULT_FAILURE ? "failure" : "unknown";
}

static const struct tok transport_names[] = {
    {TRANSPORT_SMB2, "smb2"},
    {TRANSPORT_HTTP, "http"},
    {TRANSPORT_SMB1, "smb1"},
    {TRANSPORT_DCERPC, "dcerpc"},
    {TRANSPORT_LDAP, "ldap"},
    {0, NULL},
};

const char *auth_transport_name(enum auth_transport t)
{
    const char *n = tok_name(transport_names, t);
    return n ? n : "unknown";
}

const char *auth_service_name(const struct auth_rec *r)
{
    switch (r->transport) {
    case TRANSPORT_SMB2:
    case TRANSPORT_SMB1:
        return "cifs";
    case TRANSPORT_HTTP:
        return r->http.winrm ? "winrm" : "http";
    case TRANSPORT_LDAP:
        return "ldap";
    case TRANSPORT_DCERPC:
        if (r->dcerpc.iface_name)
            return r->dcerpc.iface_name;
        break;
    }
    return "dcerpc";
}

void auth_who(const struct auth_rec *r, char *out, size_t cap)
{
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    if (a)
        snprintf(out, cap, "%s\\%s", a->domain, a->user);
    else if (r->gss.mech == AMECH_BASIC)
        snprintf(out, cap, "%s", r->gss.basic_user);
    else if (r->gss.mech == AMECH_NETLOGON && r->dcerpc.netlogon_computer[0])
        snprintf(out, cap, "%s\\%s$", r->dcerpc.netlogon_domain, r->dcerpc.netlogon_computer);
    else
        snprintf(out, cap, "%s", r->gss.krb.ticket.client);
}

const char *hs_status_name(struct hs_status s)
{
    switch (s.space) {
    case STATUS_NTSTATUS: return ntstatus_name(s.code);
    case STATUS_HTTP: return http_reason(s.code);
    case STATUS_KERBEROS: return krb_error_name((int32_t)s.code);
    case STATUS_NCA: return nca_status_name(s.code);
    case STATUS_WIN32: return win32_error_name(s.code);
    case STATUS_HRESULT: return hresult_name(s.code);
    case STATUS_RPC_REJECT: return rpc_reject_reason_name(s.code);
    case STATUS_RPC_CONTEXT: return rpc_context_reason_name(s.code);
    case STATUS_NONE:
        break;
    }
    return NULL;
}

const char *kdc_rec_client(const struct kdc_rec *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (r->cname[0] && r->req_type == KRB_AS_REQ) {
        kdc_principal_join(out, cap, r->cname, r->crealm);
        return "request";
    }
    if (r->has_tgt && r->tgt.client[0]) {
        snprintf(out, cap, "%s", r->tgt.client);
        return "tgt";
    }
    if (r->rep_cname[0] && r->kind != KDC_KIND_S4U2SELF && r->kind != KDC_KIND_S4U2PROXY &&
        strcmp(r->rep_cname, "WELLKNOWN/ANONYMOUS") != 0) {
        kdc_principal_join(out, cap, r->rep_cname, r->rep_crealm);
        return "reply";
    }
    if (r->cname[0]) {
        kdc_principal_join(out, cap, r->cname, r->crealm);
        return r->req_type ? "request" : "error";
    }
    return NULL;
}

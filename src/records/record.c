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
    {AMECH_SIMPLE, "simple"},
    {AMECH_SASL, "sasl"},
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
    {TRANSPORT_OTHER, "other"},
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
    case TRANSPORT_OTHER:
        /* what the server port usually carries; the record's server.port says which port it was */
        switch (r->h.flow.srv.port) {
        case 1433: return "mssql";
        case 25:
        case 587: return "smtp";
        case 143: return "imap";
        case 110: return "pop3";
        case 3389: return "rdp";
        case 21: return "ftp";
        case 23: return "telnet";
        default: return "unknown";
        }
    }
    return "dcerpc";
}

const char *auth_user(const struct auth_rec *r, char *out, size_t cap)
{
    out[0] = '\0';
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    if (a && (a->ntlm_version == NTLM_VER_ANONYMOUS || !a->user[0]))
        return "anonymous";
    if (a) {
        strjoin(out, cap, a->domain, "\\", a->user);
        return "ntlm";
    }
    if (r->gss.mech == AMECH_BASIC) {
        strjoin(out, cap, r->gss.basic_user, NULL, NULL);
        return out[0] ? "basic" : NULL;
    }
    if (r->gss.mech == AMECH_NETLOGON && r->dcerpc.netlogon_computer[0]) {
        snprintf(out, cap, "%s\\%s$", r->dcerpc.netlogon_domain, r->dcerpc.netlogon_computer);
        return "netlogon";
    }
    if (r->transport == TRANSPORT_LDAP && r->ldap.auth == LDAP_AUTH_SIMPLE) {
        strjoin(out, cap, r->ldap.bind_dn, NULL, NULL);
        return out[0] ? "ldap_simple" : "anonymous";
    }
    const struct kdc_decrypted *d = r->gss.krb.dec_ticket;
    if (d && d->t.decrypted && d->t.cname[0]) {
        strjoin(out, cap, d->t.cname, "@", d->t.crealm);
        return "kerberos_ticket_decrypted";
    }
    if (r->gss.krb.ticket.client[0]) {
        strjoin(out, cap, r->gss.krb.ticket.client, NULL, NULL);
        return "kerberos_kdc_reply";
    }
    return NULL;
}

bool auth_who_is_ticket(const struct auth_rec *r)
{
    return !r->gss.ntlm.auth && r->gss.mech != AMECH_BASIC &&
           !(r->gss.mech == AMECH_NETLOGON && r->dcerpc.netlogon_computer[0]) &&
           !(r->transport == TRANSPORT_LDAP && r->ldap.auth == LDAP_AUTH_SIMPLE);
}

void auth_who(const struct auth_rec *r, char *out, size_t cap)
{
    const struct ntlm_msg *a = r->gss.ntlm.auth;
    if (a)
        strjoin(out, cap, a->domain, "\\", a->user);
    else if (r->gss.mech == AMECH_BASIC)
        strjoin(out, cap, r->gss.basic_user, NULL, NULL);
    else if (r->gss.mech == AMECH_NETLOGON && r->dcerpc.netlogon_computer[0])
        snprintf(out, cap, "%s\\%s$", r->dcerpc.netlogon_domain, r->dcerpc.netlogon_computer);
    else if (r->transport == TRANSPORT_LDAP && r->ldap.auth == LDAP_AUTH_SIMPLE)
        strjoin(out, cap, r->ldap.bind_dn, NULL, NULL);
    else
        strjoin(out, cap, r->gss.krb.ticket.client, NULL, NULL);
}

/* SMB1 DOS errors, MS-CIFS 2.2.2.4: ErrorClass << 16 | ErrorCode, spelt "class/code" as Wireshark
 * and the spec do. ERRDOS codes are Win32 error numbers; ERRSRV and ERRHRD have their own. */
static const struct tok dos_error_tab[] = {
    {0x000000, "SUCCESS"},
    {0x010001, "ERRDOS/ERRbadfunc"},
    {0x010002, "ERRDOS/ERRbadfile"},
    {0x010003, "ERRDOS/ERRbadpath"},
    {0x010004, "ERRDOS/ERRnofids"},
    {0x010005, "ERRDOS/ERRnoaccess"},
    {0x010006, "ERRDOS/ERRbadfid"},
    {0x010007, "ERRDOS/ERRbadmcb"},
    {0x010008, "ERRDOS/ERRnomem"},
    {0x010009, "ERRDOS/ERRbadmem"},
    {0x01000A, "ERRDOS/ERRbadenv"},
    {0x01000B, "ERRDOS/ERRbadformat"},
    {0x01000C, "ERRDOS/ERRbadaccess"},
    {0x01000D, "ERRDOS/ERRbaddata"},
    {0x01000F, "ERRDOS/ERRbaddrive"},
    {0x010010, "ERRDOS/ERRremcd"},
    {0x010011, "ERRDOS/ERRdiffdevice"},
    {0x010012, "ERRDOS/ERRnofiles"},
    {0x01001F, "ERRDOS/ERRgeneral"},
    {0x010020, "ERRDOS/ERRbadshare"},
    {0x010021, "ERRDOS/ERRlock"},
    {0x010026, "ERRDOS/ERReof"},
    {0x010032, "ERRDOS/ERRunsup"},
    {0x010043, "ERRDOS/ERRnosuchshare"},
    {0x010050, "ERRDOS/ERRfilexists"},
    {0x010057, "ERRDOS/ERRinvalidparam"},
    {0x01007B, "ERRDOS/ERRinvalidname"},
    {0x01007C, "ERRDOS/ERRunknownlevel"},
    {0x010083, "ERRDOS/ERRinvalidseek"},
    {0x01009E, "ERRDOS/ERRnotlocked"},
    {0x0100B7, "ERRDOS/ERRalreadyexists"},
    {0x0100E6, "ERRDOS/ERRbadpipe"},
    {0x0100E7, "ERRDOS/ERRpipebusy"},
    {0x0100E8, "ERRDOS/ERRpipeclosing"},
    {0x0100E9, "ERRDOS/ERRnotconnected"},
    {0x0100EA, "ERRDOS/ERRmoredata"},
    {0x0100FF, "ERRDOS/ERRbadealist"},
    {0x01011A, "ERRDOS/ERReasnotsupported"},
    {0x0103E2, "ERRDOS/ERReaaccessdenied"},
    {0x0103FE, "ERRDOS/ERR_NOTIFY_ENUM_DIR"},
    {0x020001, "ERRSRV/ERRerror"},
    {0x020002, "ERRSRV/ERRbadpw"},
    {0x020004, "ERRSRV/ERRaccess"},
    {0x020005, "ERRSRV/ERRinvtid"},
    {0x020006, "ERRSRV/ERRinvnetname"},
    {0x020007, "ERRSRV/ERRinvdevice"},
    {0x020010, "ERRSRV/ERRinvsess"},
    {0x020011, "ERRSRV/ERRworking"},
    {0x020012, "ERRSRV/ERRnotme"},
    {0x020016, "ERRSRV/ERRbadcmd"},
    {0x020031, "ERRSRV/ERRqfull"},
    {0x020032, "ERRSRV/ERRqtoobig"},
    {0x020033, "ERRSRV/ERRqeof"},
    {0x020034, "ERRSRV/ERRinvpfid"},
    {0x020040, "ERRSRV/ERRsmbcmd"},
    {0x020041, "ERRSRV/ERRsrverror"},
    {0x020043, "ERRSRV/ERRfilespecs"},
    {0x020045, "ERRSRV/ERRbadpermits"},
    {0x020047, "ERRSRV/ERRsetattrmode"},
    {0x020058, "ERRSRV/ERRtimeout"},
    {0x020059, "ERRSRV/ERRnoresource"},
    {0x02005A, "ERRSRV/ERRtoomanyuids"},
    {0x02005B, "ERRSRV/ERRbaduid"},
    {0x0200FA, "ERRSRV/ERRusempx"},
    {0x0200FB, "ERRSRV/ERRusestd"},
    {0x0200FC, "ERRSRV/ERRcontmpx"},
    {0x0208BE, "ERRSRV/ERRnoSuchUser"},
    {0x0208BF, "ERRSRV/ERRaccountExpired"},
    {0x0208C0, "ERRSRV/ERRbadClient"},
    {0x0208C1, "ERRSRV/ERRbadLogonTime"},
    {0x0208C2, "ERRSRV/ERRpasswordExpired"},
    {0x02FFFF, "ERRSRV/ERRnosupport"},
    {0x030013, "ERRHRD/ERRnowrite"},
    {0x030014, "ERRHRD/ERRbadunit"},
    {0x030015, "ERRHRD/ERRnotready"},
    {0x030016, "ERRHRD/ERRbadcmd"},
    {0x030017, "ERRHRD/ERRdata"},
    {0x030018, "ERRHRD/ERRbadreq"},
    {0x030019, "ERRHRD/ERRseek"},
    {0x03001A, "ERRHRD/ERRbadmedia"},
    {0x03001B, "ERRHRD/ERRbadsector"},
    {0x03001C, "ERRHRD/ERRnopaper"},
    {0x03001D, "ERRHRD/ERRwrite"},
    {0x03001E, "ERRHRD/ERRread"},
    {0x03001F, "ERRHRD/ERRgeneral"},
    {0x030020, "ERRHRD/ERRbadshare"},
    {0x030021, "ERRHRD/ERRlock"},
    {0x030022, "ERRHRD/ERRwrongdisk"},
    {0x030023, "ERRHRD/ERRFCBUnavail"},
    {0x030024, "ERRHRD/ERRsharebufexc"},
    {0x030027, "ERRHRD/ERRdiskfull"},
    {0, NULL},
};

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
    case STATUS_DOS: return tok_name(dos_error_tab, s.code);
    case STATUS_LDAP: return ldap_result_name(s.code);
    case STATUS_NONE:
        break;
    }
    return NULL;
}

/* RFC 4511 Appendix A (8 is RFC 2251's strongAuthRequired, renamed there), RFC 3909 (118-121), RFC 4528 (122),
 * RFC 4370 (123). */
static const struct tok ldap_results[] = {
    {0, "success"}, {1, "operationsError"}, {2, "protocolError"}, {3, "timeLimitExceeded"},
    {4, "sizeLimitExceeded"}, {5, "compareFalse"}, {6, "compareTrue"}, {7, "authMethodNotSupported"},
    {8, "strongerAuthRequired"}, {10, "referral"}, {11, "adminLimitExceeded"},
    {12, "unavailableCriticalExtension"}, {13, "confidentialityRequired"}, {14, "saslBindInProgress"},
    {16, "noSuchAttribute"}, {17, "undefinedAttributeType"}, {18, "inappropriateMatching"},
    {19, "constraintViolation"}, {20, "attributeOrValueExists"}, {21, "invalidAttributeSyntax"},
    {32, "noSuchObject"}, {33, "aliasProblem"}, {34, "invalidDNSyntax"}, {36, "aliasDereferencingProblem"},
    {48, "inappropriateAuthentication"}, {49, "invalidCredentials"}, {50, "insufficientAccessRights"},
    {51, "busy"}, {52, "unavailable"}, {53, "unwillingToPerform"}, {54, "loopDetect"},
    {64, "namingViolation"}, {65, "objectClassViolation"}, {66, "notAllowedOnNonLeaf"}, {67, "notAllowedOnRDN"},
    {68, "entryAlreadyExists"}, {69, "objectClassModsProhibited"}, {71, "affectsMultipleDSAs"}, {80, "other"},
    {118, "canceled"}, {119, "noSuchOperation"}, {120, "tooLate"}, {121, "cannotCancel"},
    {122, "assertionFailed"}, {123, "authorizationDenied"}, {0, NULL},
};

const char *ldap_result_name(uint32_t code)
{
    return tok_name(ldap_results, code);
}

/* The codes Active Directory writes after "data" in a failed bind's diagnosticMessage: Win32 errors (MS-ERREF
 * 2.2) in hex, and what they say about the account. */
static const struct {
    uint32_t code;
    const char *name, *meaning;
} ad_errors[] = {
    {0x525, "ERROR_NO_SUCH_USER", "user not found"},
    {0x52e, "ERROR_LOGON_FAILURE", "invalid credentials"},
    {0x530, "ERROR_INVALID_LOGON_HOURS", "not permitted to log on at this time"},
    {0x531, "ERROR_INVALID_WORKSTATION", "not permitted to log on at this workstation"},
    {0x532, "ERROR_PASSWORD_EXPIRED", "password expired"},
    {0x533, "ERROR_ACCOUNT_DISABLED", "account disabled"},
    {0x568, "ERROR_TOO_MANY_CONTEXT_IDS", "too many security IDs (token size)"},
    {0x701, "ERROR_ACCOUNT_EXPIRED", "account expired"},
    {0x773, "ERROR_PASSWORD_MUST_CHANGE", "user must change password"},
    {0x775, "ERROR_ACCOUNT_LOCKED_OUT", "account locked out"},
};

const char *ldap_ad_error_name(uint32_t code, const char **meaning)
{
    for (size_t i = 0; i < sizeof ad_errors / sizeof *ad_errors; i++)
        if (ad_errors[i].code == code) {
            if (meaning)
                *meaning = ad_errors[i].meaning;
            return ad_errors[i].name;
        }
    if (meaning)
        *meaning = NULL;
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
        strjoin(out, cap, r->tgt.client, NULL, NULL);
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

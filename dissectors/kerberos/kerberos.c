/* Kerberos V5 messages in the clear — RFC 4120 5.2-5.9, MS-SFU 2.2.1-2.2.2, MS-KILE 2.2.2 and 2.2.10. */
#include "kerberos.h"

#include <stdio.h>
#include <string.h>

#include "der.h"
#include "digest.h"
#include "util.h"

static const struct tok error_names[] = {
    {0, "KDC_ERR_NONE"}, {1, "KDC_ERR_NAME_EXP"}, {2, "KDC_ERR_SERVICE_EXP"}, {3, "KDC_ERR_BAD_PVNO"},
    {4, "KDC_ERR_C_OLD_MAST_KVNO"}, {5, "KDC_ERR_S_OLD_MAST_KVNO"}, {6, "KDC_ERR_C_PRINCIPAL_UNKNOWN"},
    {7, "KDC_ERR_S_PRINCIPAL_UNKNOWN"}, {8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE"}, {9, "KDC_ERR_NULL_KEY"},
    {10, "KDC_ERR_CANNOT_POSTDATE"}, {11, "KDC_ERR_NEVER_VALID"}, {12, "KDC_ERR_POLICY"},
    {13, "KDC_ERR_BADOPTION"}, {14, "KDC_ERR_ETYPE_NOSUPP"}, {15, "KDC_ERR_SUMTYPE_NOSUPP"},
    {16, "KDC_ERR_PADATA_TYPE_NOSUPP"}, {17, "KDC_ERR_TRTYPE_NOSUPP"}, {18, "KDC_ERR_CLIENT_REVOKED"},
    {19, "KDC_ERR_SERVICE_REVOKED"}, {20, "KDC_ERR_TGT_REVOKED"}, {21, "KDC_ERR_CLIENT_NOTYET"},
    {22, "KDC_ERR_SERVICE_NOTYET"}, {23, "KDC_ERR_KEY_EXPIRED"}, {24, "KDC_ERR_PREAUTH_FAILED"},
    {25, "KDC_ERR_PREAUTH_REQUIRED"}, {26, "KDC_ERR_SERVER_NOMATCH"}, {27, "KDC_ERR_MUST_USE_USER2USER"},
    {28, "KDC_ERR_PATH_NOT_ACCEPTED"}, {29, "KDC_ERR_SVC_UNAVAILABLE"}, {31, "KRB_AP_ERR_BAD_INTEGRITY"},
    {32, "KRB_AP_ERR_TKT_EXPIRED"}, {33, "KRB_AP_ERR_TKT_NYV"}, {34, "KRB_AP_ERR_REPEAT"},
    {35, "KRB_AP_ERR_NOT_US"}, {36, "KRB_AP_ERR_BADMATCH"}, {37, "KRB_AP_ERR_SKEW"},
    {38, "KRB_AP_ERR_BADADDR"}, {39, "KRB_AP_ERR_BADVERSION"}, {40, "KRB_AP_ERR_MSG_TYPE"},
    {41, "KRB_AP_ERR_MODIFIED"}, {42, "KRB_AP_ERR_BADORDER"}, {44, "KRB_AP_ERR_BADKEYVER"},
    {45, "KRB_AP_ERR_NOKEY"}, {46, "KRB_AP_ERR_MUT_FAIL"}, {47, "KRB_AP_ERR_BADDIRECTION"},
    {48, "KRB_AP_ERR_METHOD"}, {49, "KRB_AP_ERR_BADSEQ"}, {50, "KRB_AP_ERR_INAPP_CKSUM"},
    {51, "KRB_AP_PATH_NOT_ACCEPTED"}, {52, "KRB_ERR_RESPONSE_TOO_BIG"}, {60, "KRB_ERR_GENERIC"},
    {61, "KRB_ERR_FIELD_TOOLONG"}, {62, "KDC_ERROR_CLIENT_NOT_TRUSTED"}, {63, "KDC_ERROR_KDC_NOT_TRUSTED"},
    {64, "KDC_ERROR_INVALID_SIG"}, {65, "KDC_ERR_KEY_TOO_WEAK"}, {66, "KDC_ERR_CERTIFICATE_MISMATCH"},
    {67, "KRB_AP_ERR_NO_TGT"}, {68, "KDC_ERR_WRONG_REALM"}, {69, "KRB_AP_ERR_USER_TO_USER_REQUIRED"},
    {70, "KDC_ERR_CANT_VERIFY_CERTIFICATE"}, {71, "KDC_ERR_INVALID_CERTIFICATE"},
    {72, "KDC_ERR_REVOKED_CERTIFICATE"}, {73, "KDC_ERR_REVOCATION_STATUS_UNKNOWN"},
    {74, "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE"}, {75, "KDC_ERR_CLIENT_NAME_MISMATCH"},
    {76, "KDC_ERR_KDC_NAME_MISMATCH"}, {90, "KDC_ERR_PREAUTH_EXPIRED"},
    {91, "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED"}, {93, "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS"},
    {0, NULL},
};

static const struct tok etype_names[] = {
    {1, "des-cbc-crc"}, {2, "des-cbc-md4"}, {3, "des-cbc-md5"}, {16, "des3-cbc-sha1"},
    {17, "aes128-cts-hmac-sha1-96"}, {18, "aes256-cts-hmac-sha1-96"}, {19, "aes128-cts-hmac-sha256-128"},
    {20, "aes256-cts-hmac-sha384-192"}, {23, "rc4-hmac"}, {24, "rc4-hmac-exp"}, {25, "camellia128-cts-cmac"},
    {26, "camellia256-cts-cmac"}, {(uint32_t)-128, "rc4-hmac-old"}, {(uint32_t)-133, "rc4-md4"},
    {(uint32_t)-135, "rc4-hmac-old-exp"}, {0, NULL},
};

static const struct tok padata_names[] = {
    {1, "PA-TGS-REQ"}, {2, "PA-ENC-TIMESTAMP"}, {3, "PA-PW-SALT"}, {11, "PA-ETYPE-INFO"},
    {15, "PA-PK-AS-REP-19"}, {16, "PA-PK-AS-REQ"}, {17, "PA-PK-AS-REP"}, {19, "PA-ETYPE-INFO2"},
    {20, "PA-SVR-REFERRAL-INFO"}, {128, "PA-PAC-REQUEST"}, {129, "PA-FOR-USER"}, {130, "PA-S4U-X509-USER"},
    {132, "PA-AS-CHECKSUM"}, {133, "PA-FX-COOKIE"}, {136, "PA-FX-FAST"}, {137, "PA-FX-ERROR"},
    {138, "PA-ENCRYPTED-CHALLENGE"}, {147, "PA-PKINIT-KX"}, {149, "PA-REQ-ENC-PA-REP"},
    {150, "PA-AS-FRESHNESS"}, {165, "PA-SUPPORTED-ETYPES"}, {166, "PA-EXTENDED-ERROR"},
    {167, "PA-PAC-OPTIONS"}, {0, NULL},
};

/* The flag-word tables below (KDCOptions, TicketFlags, APOptions, PAC-OPTIONS-FLAGS) are keyed by bit
 * number as RFC 4120 5.2.8 numbers KerberosFlags: bit 0 is the most significant bit (0x80000000). */
static const struct tok kdc_option_names[] = {
    {0, "reserved"}, {1, "forwardable"}, {2, "forwarded"}, {3, "proxiable"}, {4, "proxy"},
    {5, "allow-postdate"}, {6, "postdated"}, {8, "renewable"}, {11, "opt-hardware-auth"},
    {14, "cname-in-addl-tkt"}, {15, "canonicalize"}, {16, "request-anonymous"},
    {26, "disable-transited-check"}, {27, "renewable-ok"}, {28, "enc-tkt-in-skey"}, {30, "renew"},
    {31, "validate"}, {0, NULL},
};

static const struct tok ticket_flag_names[] = {
    {0, "reserved"}, {1, "forwardable"}, {2, "forwarded"}, {3, "proxiable"}, {4, "proxy"},
    {5, "may-postdate"}, {6, "postdated"}, {7, "invalid"}, {8, "renewable"}, {9, "initial"},
    {10, "pre-authent"}, {11, "hw-authent"}, {12, "transited-policy-checked"}, {13, "ok-as-delegate"},
    {15, "enc-pa-rep"}, {16, "anonymous"}, {0, NULL},
};

static const struct tok ap_option_names[] = {
    {0, "reserved"}, {1, "use-session-key"}, {2, "mutual-required"}, {0, NULL},
};

static const struct tok pac_option_names[] = {
    {0, "claims"}, {1, "branch-aware"}, {2, "forward-to-full-dc"}, {3, "resource-based-constrained-delegation"},
    {0, NULL},
};

static const struct tok msg_type_names[] = {
    {10, "AS-REQ"}, {11, "AS-REP"}, {12, "TGS-REQ"}, {13, "TGS-REP"}, {14, "AP-REQ"}, {15, "AP-REP"},
    {20, "KRB-SAFE"}, {21, "KRB-PRIV"}, {22, "KRB-CRED"}, {30, "KRB-ERROR"}, {0, NULL},
};

const char *krb_error_name(int32_t code) { return tok_name(error_names, (uint32_t)code); }
const char *krb_etype_name(int32_t etype) { return tok_name(etype_names, (uint32_t)etype); }
const char *krb_padata_name(int32_t type) { return tok_name(padata_names, (uint32_t)type); }
const char *krb_kdc_option_name(int bit) { return tok_name(kdc_option_names, (uint32_t)bit); }
const char *krb_ticket_flag_name(int bit) { return tok_name(ticket_flag_names, (uint32_t)bit); }
const char *krb_ap_option_name(int bit) { return tok_name(ap_option_names, (uint32_t)bit); }
const char *krb_pac_option_name(int bit) { return tok_name(pac_option_names, (uint32_t)bit); }
const char *krb_msg_type_name(int type) { return tok_name(msg_type_names, (uint32_t)type); }

bool krb_is_kdc_msg(const uint8_t *p, size_t n)
{
    return n >= 2 && (p[0] == 0x6a || p[0] == 0x6b || p[0] == 0x6c || p[0] == 0x6d || p[0] == 0x7e);
}

/* PrincipalName (RFC 4120 5.2.2) into p; [n] explicit-field readers are der_get_* (der.h). */
static bool get_principal(const struct der_tlv *f, struct krb_principal *p)
{
    memset(p, 0, sizeof *p);
    if (!der_get_principal(f, p->name, sizeof p->name, &p->name_type))
        return false;
    p->present = true;
    return true;
}

/* EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING } */
static bool parse_enc_seq(const struct der_tlv *seq, struct krb_enc *e)
{
    struct rd r = der_inner(seq);
    struct der_tlv f, v;
    memset(e, 0, sizeof *e);
    while (rd_left(&r)) {
        if (!der_next(&r, &f) || f.cls != DER_CONTEXT)
            return false;
        int64_t x;
        switch (f.tag) {
        case 0:
            if (!der_get_int(&f, &x))
                return false;
            e->etype = (int32_t)x;
            break;
        case 1:
            if (!der_get_int(&f, &x))
                return false;
            e->has_kvno = true;
            e->kvno = (uint32_t)x;
            break;
        case 2:
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_OCTET_STRING)
                return false;
            e->cipher = v.val;
            e->cipher_len = v.len;
            break;
        default:
            break;
        }
    }
    e->present = true;
    return true;
}

static bool get_enc(const struct der_tlv *f, struct krb_enc *e)
{
    struct der_tlv seq;
    return der_explicit(f, &seq) && seq.tag == DER_TAG_SEQUENCE && parse_enc_seq(&seq, e);
}

static void ticket_digest(struct krb_ticket *t)
{
    uint8_t md[32];
    t->digest[0] = '\0';
    if (!hs_sha256(t->raw, t->raw_len, md))
        return;
    for (int i = 0; i < 16; i++)
        hex_put(t->digest + 2 * i, md[i], 2);
    t->digest[32] = '\0';
}

/* Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
 * `app` is the whole [APPLICATION 1] TLV; raw_start/raw_len its encoding. */
static bool parse_ticket_tlv(const struct der_tlv *app, const uint8_t *raw, size_t raw_len, struct krb_ticket *t)
{
    memset(t, 0, sizeof *t);
    if (app->cls != DER_APPLICATION || app->tag != 1)
        return false;
    struct der_tlv seq, f;
    struct rd a = der_inner(app);
    if (!der_expect(&a, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq))
        return false;
    struct rd r = der_inner(&seq);
    while (rd_left(&r)) {
        if (!der_next(&r, &f) || f.cls != DER_CONTEXT)
            return false;
        if (f.tag == 1 && !der_get_string(&f, t->realm, sizeof t->realm))
            return false;
        if (f.tag == 2 && !get_principal(&f, &t->sname))
            return false;
        if (f.tag == 3 && !get_enc(&f, &t->enc))
            return false;
    }
    t->raw = raw;
    t->raw_len = raw_len;
    t->present = true;
    ticket_digest(t);
    return true;
}

/* Reads a Ticket from an explicitly tagged field [n] Ticket. */
static bool get_ticket(const struct der_tlv *f, struct krb_ticket *t)
{
    struct rd r = der_inner(f);
    size_t start = r.pos;
    struct der_tlv app;
    if (!der_next(&r, &app))
        return false;
    return parse_ticket_tlv(&app, r.p + start, r.pos - start, t);
}

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1], ap-options [2], ticket [3],
 *                                        authenticator [4] } — seq is the SEQUENCE. */
static bool parse_ap_req_seq(const struct der_tlv *seq, struct krb_ap_req *a)
{
    struct rd r = der_inner(seq);
    struct der_tlv f;
    memset(a, 0, sizeof *a);
    while (rd_left(&r)) {
        if (!der_next(&r, &f) || f.cls != DER_CONTEXT)
            return false;
        if (f.tag == 2 && !der_get_bits32(&f, &a->ap_options))
            return false;
        if (f.tag == 3 && !get_ticket(&f, &a->ticket))
            return false;
        if (f.tag == 4 && !get_enc(&f, &a->authenticator))
            return false;
    }
    return a->ticket.present;
}

/* PA-DATA ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING } — calls back per entry. */
typedef bool (*pa_fn)(void *ctx, int32_t type, const uint8_t *v, size_t n);

static bool walk_padata(struct rd *list, int32_t *types, int *ntypes, pa_fn fn, void *ctx)
{
    struct der_tlv pa, f, v;
    while (rd_left(list)) {
        if (!der_next(list, &pa) || pa.tag != DER_TAG_SEQUENCE)
            return false;
        struct rd r = der_inner(&pa);
        int64_t type = -1;
        const uint8_t *val = NULL;
        size_t vlen = 0;
        while (rd_left(&r)) {
            if (!der_next(&r, &f) || f.cls != DER_CONTEXT)
                return false;
            if (f.tag == 1 && !der_get_int(&f, &type))
                return false;
            if (f.tag == 2) {
                if (!der_explicit(&f, &v) || v.tag != DER_TAG_OCTET_STRING)
                    return false;
                val = v.val;
                vlen = v.len;
            }
        }
        if (*ntypes < KRB_MAX_PADATA)
            types[(*ntypes)++] = (int32_t)type;
        if (fn && val && !fn(ctx, (int32_t)type, val, vlen))
            return false;
    }
    return true;
}

/* PA-DATA values of a KDC-REQ that hopscope decodes. A malformed value spoils only itself. */
static bool req_padata(void *ctx, int32_t type, const uint8_t *v, size_t n)
{
    struct krb_kdc_req *q = ctx;
    struct rd r = rd_make(v, n);
    struct der_tlv t, seq, f;
    switch (type) {
    case PA_TGS_REQ: /* the AP-REQ carrying the TGT (RFC 4120 5.4.1) */
        if (der_next(&r, &t) && t.cls == DER_APPLICATION && t.tag == 14) {
            struct rd a = der_inner(&t);
            if (der_expect(&a, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq) && parse_ap_req_seq(&seq, &q->tgs_ap_req))
                q->has_tgs_ap_req = true;
        }
        break;
    case PA_FOR_USER: /* PA-FOR-USER-ENC ::= SEQUENCE { userName [0], userRealm [1], cksum [2], auth-package [3] } */
        if (der_next(&r, &seq) && seq.tag == DER_TAG_SEQUENCE) {
            struct rd s = der_inner(&seq);
            while (rd_left(&s) && der_next(&s, &f)) {
                if (f.tag == 0)
                    get_principal(&f, &q->for_user);
                else if (f.tag == 1)
                    der_get_string(&f, q->for_user_realm, sizeof q->for_user_realm);
            }
            if (!q->for_user_via)
                q->for_user_via = PA_FOR_USER;
        }
        break;
    case PA_S4U_X509_USER: /* SEQUENCE { user-id [0] S4UUserID, checksum [1] } ;
                              S4UUserID ::= SEQUENCE { nonce [0], cname [1], crealm [2], ... } */
        if (der_next(&r, &seq) && seq.tag == DER_TAG_SEQUENCE) {
            struct rd s = der_inner(&seq);
            if (der_next(&s, &f) && f.tag == 0) {
                struct der_tlv uid, g;
                if (der_explicit(&f, &uid) && uid.tag == DER_TAG_SEQUENCE) {
                    struct rd u = der_inner(&uid);
                    while (rd_left(&u) && der_next(&u, &g)) {
                        if (g.tag == 1)
                            get_principal(&g, &q->for_user);
                        else if (g.tag == 2)
                            der_get_string(&g, q->for_user_realm, sizeof q->for_user_realm);
                    }
                    q->for_user_via = PA_S4U_X509_USER;
                }
            }
        }
        break;
    case PA_PAC_OPTIONS: /* PA-PAC-OPTIONS ::= SEQUENCE { flags [0] PAC-OPTIONS-FLAGS } */
        if (der_next(&r, &seq) && seq.tag == DER_TAG_SEQUENCE) {
            struct rd s = der_inner(&seq);
            if (der_next(&s, &f) && f.tag == 0 && der_get_bits32(&f, &q->pac_options))
                q->has_pac_options = true;
        }
        break;
    case PA_PAC_REQUEST: /* KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN } */
        if (der_next(&r, &seq) && seq.tag == DER_TAG_SEQUENCE) {
            struct rd s = der_inner(&seq);
            struct der_tlv b;
            if (der_next(&s, &f) && f.tag == 0 && der_explicit(&f, &b) && b.tag == 1 && b.len == 1)
                q->include_pac = b.val[0] ? 1 : 0;
        }
        break;
    default:
        break;
    }
    return true;
}

/* HostAddresses ::= SEQUENCE OF HostAddress { addr-type [0] Int32, address [1] OCTET STRING } (RFC 4120
 * 5.2.5; types 7.5.3: 2 IPv4, 24 IPv6, 20 NetBIOS). Best effort: a malformed entry is skipped. */
static void parse_addresses(const struct der_tlv *f, struct krb_kdc_req *q)
{
    struct der_tlv l, a, g, v;
    if (!der_explicit(f, &l) || l.tag != DER_TAG_SEQUENCE)
        return;
    struct rd lr = der_inner(&l);
    while (rd_left(&lr) && q->n_addresses < KRB_MAX_ADDRESSES && der_next(&lr, &a)) {
        struct rd ar = der_inner(&a);
        int64_t type = -1;
        const uint8_t *val = NULL;
        size_t vlen = 0;
        while (rd_left(&ar) && der_next(&ar, &g)) {
            if (g.tag == 0)
                der_get_int(&g, &type);
            else if (g.tag == 1 && der_explicit(&g, &v) && v.tag == DER_TAG_OCTET_STRING) {
                val = v.val;
                vlen = v.len;
            }
        }
        char *out = q->addresses[q->n_addresses];
        size_t cap = sizeof q->addresses[0];
        if (!val)
            continue;
        if (type == 2 && vlen == 4) {
            snprintf(out, cap, "%u.%u.%u.%u", val[0], val[1], val[2], val[3]);
        } else if (type == 24 && vlen == 16) {
            size_t o = 0;
            for (int i = 0; i < 16; i += 2)
                o += (size_t)snprintf(out + o, cap - o, "%s%x", i ? ":" : "", (unsigned)ld_u16be(val + i));
        } else if (type == 20) {
            char name[20];
            size_t k = vlen < sizeof name - 1 ? vlen : sizeof name - 1;
            size_t j = 0;
            for (size_t i = 0; i < k; i++) /* NetBIOS names are space-padded; keep printable ASCII */
                if (val[i] > ' ' && val[i] < 0x7f)
                    name[j++] = (char)val[i];
            name[j] = '\0';
            snprintf(out, cap, "netbios:%s", name);
        } else {
            snprintf(out, cap, "type %d", (int)type);
        }
        q->n_addresses++;
    }
}

static bool parse_req_body(const struct der_tlv *body, struct krb_kdc_req *q)
{
    struct rd r = der_inner(body);
    struct der_tlv f, v;
    while (rd_left(&r)) {
        if (!der_next(&r, &f) || f.cls != DER_CONTEXT)
            return false;
        int64_t x;
        switch (f.tag) {
        case 0:
            if (!der_get_bits32(&f, &q->kdc_options))
                return false;
            break;
        case 1:
            if (!get_principal(&f, &q->cname))
                return false;
            break;
        case 2:
            if (!der_get_string(&f, q->realm, sizeof q->realm))
                return false;
            break;
        case 3:
            if (!get_principal(&f, &q->sname))
                return false;
            break;
        case 5:
            der_get_string(&f, q->till, sizeof q->till);
            break;
        case 7:
            if (!der_get_int(&f, &x))
                return false;
            q->nonce = (uint32_t)x;
            break;
        case 8: {
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_SEQUENCE)
                return false;
            struct rd l = der_inner(&v);
            struct der_tlv e;
            while (rd_left(&l)) {
                if (!der_next(&l, &e) || e.tag != DER_TAG_INTEGER || e.len == 0 || e.len > 4)
                    return false;
                int32_t et = (e.val[0] & 0x80) ? -1 : 0;
                for (size_t i = 0; i < e.len; i++)
                    et = (int32_t)((uint32_t)et << 8) | e.val[i];
                if (q->n_etypes < KRB_MAX_ETYPES)
                    q->etypes[q->n_etypes++] = et;
            }
            break;
        }
        case 9:
            q->has_addresses = true;
            parse_addresses(&f, q);
            break;
        case 10:
            q->has_enc_authz = true;
            break;
        case 11: {
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_SEQUENCE)
                return false;
            struct rd l = der_inner(&v);
            while (rd_left(&l)) {
                size_t start = l.pos;
                struct der_tlv app;
                if (!der_next(&l, &app))
                    return false;
                if (q->n_addl < KRB_MAX_ADDL_TICKETS &&
                    !parse_ticket_tlv(&app, l.p + start, l.pos - start, &q->addl[q->n_addl++]))
                    return false;
            }
            break;
        }
        default:
            break;
        }
    }
    return true;
}

/* KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] SEQUENCE OF PA-DATA, req-body [4] } */
static int parse_kdc_req(struct rd *seqr, struct krb_kdc_req *q)
{
    struct der_tlv f, v;
    q->include_pac = -1;
    const uint8_t *padata = NULL;
    size_t padata_len = 0;
    bool have_body = false;
    while (rd_left(seqr)) {
        if (!der_next(seqr, &f) || f.cls != DER_CONTEXT)
            return -1;
        if (f.tag == 3) {
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_SEQUENCE)
                return -1;
            padata = v.val;
            padata_len = v.len;
        } else if (f.tag == 4) {
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_SEQUENCE || !parse_req_body(&v, q))
                return -1;
            have_body = true;
        }
    }
    if (!have_body) /* req-body is not OPTIONAL (RFC 4120 5.4.1) */
        return -1;
    if (padata) {
        struct rd l = rd_make(padata, padata_len);
        if (!walk_padata(&l, q->padata, &q->n_padata, req_padata, q))
            return -1;
    }
    return 0;
}

/* KDC-REP ::= SEQUENCE { pvno [0], msg-type [1], padata [2], crealm [3], cname [4], ticket [5], enc-part [6] } */
static int parse_kdc_rep(struct rd *seqr, struct krb_kdc_rep *p)
{
    struct der_tlv f, v;
    while (rd_left(seqr)) {
        if (!der_next(seqr, &f) || f.cls != DER_CONTEXT)
            return -1;
        switch (f.tag) {
        case 2: {
            if (!der_explicit(&f, &v) || v.tag != DER_TAG_SEQUENCE)
                return -1;
            struct rd l = der_inner(&v);
            if (!walk_padata(&l, p->padata, &p->n_padata, NULL, NULL))
                return -1;
            break;
        }
        case 3:
            if (!der_get_string(&f, p->crealm, sizeof p->crealm))
                return -1;
            break;
        case 4:
            if (!get_principal(&f, &p->cname))
                return -1;
            break;
        case 5:
            if (!get_ticket(&f, &p->ticket))
                return -1;
            break;
        case 6:
            if (!get_enc(&f, &p->enc_part))
                return -1;
            break;
        default:
            break;
        }
    }
    return p->ticket.present ? 0 : -1;
}

/* PA-ETYPE-INFO2 (RFC 4120 5.2.7.5) in an error's METHOD-DATA: SEQUENCE OF { etype [0], salt [1], s2kparams [2] }. */
static bool error_padata(void *ctx, int32_t type, const uint8_t *v, size_t n)
{
    struct krb_error *e = ctx;
    if (type != PA_ETYPE_INFO2)
        return true;
    struct rd r = rd_make(v, n);
    struct der_tlv l, ent, f;
    if (!der_next(&r, &l) || l.tag != DER_TAG_SEQUENCE)
        return true;
    struct rd lr = der_inner(&l);
    while (rd_left(&lr) && e->n_etype_info2 < KRB_MAX_ETYPES && der_next(&lr, &ent)) {
        struct rd er = der_inner(&ent);
        int64_t et;
        if (der_next(&er, &f) && f.cls == DER_CONTEXT && f.tag == 0 && der_get_int(&f, &et))
            e->etype_info2[e->n_etype_info2++] = (int32_t)et;
    }
    return true;
}

/* e-data: KERB-ERROR-DATA ::= SEQUENCE { data-type [1] INTEGER, data-value [2] OCTET STRING }
 * (MS-KILE 2.2.2; type 3 KERB_ERR_TYPE_EXTENDED: KERB-EXT-ERROR {status, reserved, flags}, little-endian),
 * or METHOD-DATA ::= SEQUENCE OF PA-DATA (RFC 4120 5.9.1). */
static void parse_e_data(const uint8_t *p, size_t n, struct krb_error *e)
{
    struct rd r = rd_make(p, n);
    struct der_tlv seq, f, v;
    if (!der_next(&r, &seq) || seq.tag != DER_TAG_SEQUENCE)
        return;
    struct rd s = der_inner(&seq);
    struct rd peek = s;
    if (der_next(&peek, &f) && f.cls == DER_CONTEXT) {
        int64_t type = -1;
        while (rd_left(&s) && der_next(&s, &f)) {
            if (f.tag == 1)
                der_get_int(&f, &type);
            else if (f.tag == 2 && type == 3 && der_explicit(&f, &v) && v.tag == DER_TAG_OCTET_STRING && v.len >= 4) {
                e->has_ntstatus = true;
                e->ntstatus = ld_u32le(v.val);
            }
        }
        return;
    }
    walk_padata(&s, e->e_padata, &e->n_e_padata, error_padata, e);
}

static int parse_error(struct rd *seqr, struct krb_error *e)
{
    struct der_tlv f, v;
    bool have_code = false;
    while (rd_left(seqr)) {
        if (!der_next(seqr, &f) || f.cls != DER_CONTEXT)
            return -1;
        int64_t x;
        switch (f.tag) {
        case 4: der_get_string(&f, e->stime, sizeof e->stime); break;
        case 6:
            if (!der_get_int(&f, &x))
                return -1;
            e->error_code = (int32_t)x;
            have_code = true;
            break;
        case 7: der_get_string(&f, e->crealm, sizeof e->crealm); break;
        case 8: get_principal(&f, &e->cname); break;
        case 9: der_get_string(&f, e->realm, sizeof e->realm); break;
        case 10: get_principal(&f, &e->sname); break;
        case 11: der_get_string(&f, e->e_text, sizeof e->e_text); break;
        case 12:
            if (der_explicit(&f, &v) && v.tag == DER_TAG_OCTET_STRING) {
                e->has_e_data = true;
                parse_e_data(v.val, v.len, e);
            }
            break;
        default: break;
        }
    }
    return have_code ? 0 : -1;
}

int krb_parse(const uint8_t *p, size_t n, struct krb_msg *m)
{
    memset(m, 0, sizeof *m);
    struct rd r = rd_make(p, n);
    struct der_tlv app, seq;
    if (!der_next(&r, &app) || app.cls != DER_APPLICATION || !app.constructed)
        return -1;
    m->msg_type = (int)app.tag;
    struct rd a = der_inner(&app);
    if (!der_expect(&a, DER_UNIVERSAL, DER_TAG_SEQUENCE, &seq))
        return -1;
    struct rd s = der_inner(&seq);
    switch (app.tag) {
    case KRB_AS_REQ:
    case KRB_TGS_REQ:
        return parse_kdc_req(&s, &m->u.req);
    case KRB_AS_REP:
    case KRB_TGS_REP:
        return parse_kdc_rep(&s, &m->u.rep);
    case KRB_AP_REQ:
        return parse_ap_req_seq(&seq, &m->u.ap_req) ? 0 : -1;
    case KRB_AP_REP: {
        struct der_tlv f;
        while (rd_left(&s)) {
            if (!der_next(&s, &f) || f.cls != DER_CONTEXT)
                return -1;
            if (f.tag == 2 && !get_enc(&f, &m->u.ap_rep))
                return -1;
        }
        return m->u.ap_rep.present ? 0 : -1;
    }
    case KRB_ERROR:
        return parse_error(&s, &m->u.err);
    default:
        return -1;
    }
}

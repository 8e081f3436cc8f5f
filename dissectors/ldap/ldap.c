/* LDAP binds — RFC 4511 4.1.1 (LDAPMessage), 4.2 (Bind), 4.14 (StartTLS), RFC 4513 5.1, RFC 4752, MS-ADTS 5.1.1.1. */
#include "ldap.h"

#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "mech.h"
#include "reader.h"
#include "spnego.h"
#include "util.h"

/*
 * LDAPMessage (RFC 4511 4.1.1), BER with definite lengths (X.690 8.1.3; the long form with 1-4 length octets,
 * as Active Directory writes every length: 30 84 00 00 00 L):
 *
 *   30 L                        SEQUENCE
 *      02 l messageID           INTEGER (0 .. 2^31-1)
 *      [APPLICATION n] ...      protocolOp: 60 BindRequest, 61 BindResponse, 77 ExtendedRequest, 78 ExtendedResponse
 *      a0 ...                   controls [0] OPTIONAL (not read)
 *
 *   BindRequest  ::= [APPLICATION 0] SEQUENCE { version INTEGER (1..127), name LDAPDN,
 *                        authentication CHOICE { simple [0] OCTET STRING, sasl [3] SaslCredentials,
 *                                                sicilyPackageDiscovery [9], sicilyNegotiate [10],
 *                                                sicilyResponse [11] OCTET STRING (MS-ADTS 5.1.1.1) } }
 *   SaslCredentials ::= SEQUENCE { mechanism LDAPString, credentials OCTET STRING OPTIONAL }
 *   BindResponse ::= [APPLICATION 1] SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN,
 *                        diagnosticMessage LDAPString, referral [3] OPTIONAL,
 *                        serverSaslCreds [7] OCTET STRING OPTIONAL }
 *
 * A sicily bind's answer (MS-ADTS 5.1.1.1.3, SicilyBindResponse) carries its serverCreds where matchedDN is: the
 * package list for sicilyPackageDiscovery, the NTLM CHALLENGE for sicilyNegotiate.
 *
 * Once a SASL bind installs a security layer (RFC 4422 3.7, RFC 4752 3.3, MS-ADTS 5.1.1.1.2) every PDU is a
 * SASL buffer instead:
 *
 *   +-------------------------+----------------------------------------------------------------+
 *   | length (u32 BE, < 2^24) | GSS wrap token: 05 04 (RFC 4121 4.2.6.2), 60 .. (RFC 1964 1.2) |
 *   |                         | or an NTLM signature 01 00 00 00 (MS-NLMP 2.2.2.9), then the   |
 *   |                         | sealed or signed PDU                                           |
 *   +-------------------------+----------------------------------------------------------------+
 *
 * Its first byte is 0x00 and an LDAPMessage's is 0x30, which tells them apart (as Wireshark does).
 */

#define LDAP_MSG_MAX     (64u << 20) /* a longer LDAPMessage is malformed: AD takes 10 MB, OpenLDAP 16 MB */
#define LDAP_MSGID_MAX   0x7fffffffu
#define LDAP_PENDING_MAX 8  /* BindRequests awaiting their response (RFC 4511 4.2.1 allows one) */
#define SASL_BUF_MIN     16 /* the smallest wrap token: an NTLM signature, an RFC 4121 token header */

/* protocolOp tags (RFC 4511 4.2-4.13): those that exist, and those of a primitive type (UnbindRequest NULL,
 * DelRequest LDAPDN, AbandonRequest MessageID). */
enum ldap_op {
    LDAP_BIND_REQUEST = 0,
    LDAP_BIND_RESPONSE = 1,
    LDAP_EXTENDED_REQUEST = 23,
    LDAP_EXTENDED_RESPONSE = 24,
};
#define LDAP_OPS_KNOWN     (0x1ffffu | 1u << 19 | 1u << 23 | 1u << 24 | 1u << 25)
#define LDAP_OPS_PRIMITIVE (1u << 2 | 1u << 10 | 1u << 16)

/* resultCode values the bind logic acts on (RFC 4511 4.1.9). */
#define LDAP_SUCCESS               0
#define LDAP_SASL_BIND_IN_PROGRESS 14

/* AuthenticationChoice tags (RFC 4511 4.2, MS-ADTS 5.1.1.1). */
#define AUTH_SIMPLE           0
#define AUTH_SASL             3
#define AUTH_SICILY_DISCOVERY 9
#define AUTH_SICILY_NEGOTIATE 10
#define AUTH_SICILY_RESPONSE  11
#define AUTH_NONE             0xff /* a response whose request was not seen */

/* StartTLS (RFC 4511 4.14.1): 1.3.6.1.4.1.1466.20037, as the LDAPOID text it is sent as. */
static const char starttls_oid[] = "1.3.6.1.4.1.1466.20037";

/* A BindRequest awaiting its BindResponse. */
struct ldap_pending {
    bool used;
    uint32_t mid;
    uint64_t rec;   /* its record's id; 0 when none could be made */
    uint8_t choice; /* its AuthenticationChoice tag */
};

struct ldap_state {
    uint64_t cur;          /* id of the connection's latest bind attempt */
    bool cur_continues;    /* its last BindResponse asked for another leg (saslBindInProgress, sicily) */
    bool sasl_layer;       /* a SASL or sicily bind succeeded: PDUs may be SASL buffers from now on */
    bool starttls_pending; /* a StartTLS request awaits its response */
    bool tls;              /* StartTLS succeeded: both directions are TLS from now on */
    uint32_t starttls_mid;
    struct ldap_pending pend[LDAP_PENDING_MAX];
    uint32_t next_slot;
};

/* ---- framing --------------------------------------------------------------------------------------------- */

/*
 * A BER length (X.690 8.1.3.3-8.1.3.5) at p[0..n): the short form, or the long form with 1-4 octets (what
 * der_next() accepts). 1 with *hl its octets and *len the length; -1 when p ends first; 0 when it is the
 * indefinite form or longer than 4 octets.
 */
static int ber_len(const uint8_t *p, size_t n, size_t *hl, uint32_t *len)
{
    if (n < 1)
        return -1;
    if (p[0] < 0x80) {
        *hl = 1;
        *len = p[0];
        return 1;
    }
    unsigned k = p[0] & 0x7fu;
    if (k == 0 || k > 4)
        return 0;
    if (n < 1 + (size_t)k)
        return -1;
    uint32_t v = 0;
    for (unsigned i = 1; i <= k; i++)
        v = v << 8 | p[i];
    *hl = 1 + k;
    *len = v;
    return 1;
}

static bool op_ok(unsigned tag, bool constructed)
{
    return tag < 32 && (LDAP_OPS_KNOWN >> tag & 1u) && constructed == !(LDAP_OPS_PRIMITIVE >> tag & 1u);
}

enum head { HEAD_BAD = 0, HEAD_OK, HEAD_SHORT };

struct ldap_head {
    uint64_t total; /* the whole LDAPMessage: identifier, length and value */
    bool op_seen;   /* the bytes reached a valid protocolOp tag */
};

/* Checks the header of an LDAPMessage at p[0..n) as far as its protocolOp's length (RFC 4511 4.1.1). */
static enum head msg_head(const uint8_t *p, size_t n, struct ldap_head *h)
{
    size_t hl, ol;
    uint32_t len, oplen;
    h->op_seen = false;
    h->total = 0;
    if (n < 1)
        return HEAD_SHORT;
    if (p[0] != 0x30)
        return HEAD_BAD;
    int k = ber_len(p + 1, n - 1, &hl, &len);
    if (k <= 0)
        return k ? HEAD_SHORT : HEAD_BAD;
    size_t o = 1 + hl;
    h->total = (uint64_t)o + len;
    if (len < 5 || len > LDAP_MSG_MAX) /* 02 01 id, then a tag and a length at least */
        return HEAD_BAD;
    if (n < o + 3)
        return HEAD_SHORT;
    size_t il = p[o + 1];
    if (p[o] != 0x02 || il < 1 || il > 4 || 2 + il >= len || (p[o + 2] & 0x80)) /* 0 .. maxInt */
        return HEAD_BAD;
    o += 2 + il;
    if (n < o + 1)
        return HEAD_SHORT;
    uint8_t t = p[o];
    if ((t & 0xC0) != DER_APPLICATION || !op_ok(t & 0x1fu, (t & 0x20) != 0))
        return HEAD_BAD;
    h->op_seen = true;
    k = ber_len(p + o + 1, n - o - 1, &ol, &oplen);
    if (k <= 0)
        return k ? HEAD_SHORT : HEAD_BAD;
    if ((uint64_t)o + 1 + ol + oplen > h->total)
        return HEAD_BAD;
    return HEAD_OK;
}

int ldap_probe(const uint8_t *p, size_t n)
{
    struct ldap_head h;
    switch (msg_head(p, n, &h)) {
    case HEAD_OK:
        return 100;
    case HEAD_SHORT:
        return h.op_seen ? 90 : 0;
    case HEAD_BAD:
        break;
    }
    return 0;
}

/* Does t[0..n) start as a GSS wrap token would: an RFC 4121 token (05 04 wrap, 04 04 MIC), an RFC 1964 token
 * (60 L 06 09 <krb5 OID>), or an NTLM signature (version 1)? 1 yes, 0 no, -1 t ends first. */
static int wrap_token_start(const uint8_t *t, size_t n)
{
    static const uint8_t krb5_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    if (n < 4)
        return -1;
    if ((t[0] == 0x05 || t[0] == 0x04) && t[1] == 0x04)
        return 1;
    if (t[0] == 0x01 && t[1] == 0 && t[2] == 0 && t[3] == 0)
        return 1;
    if (t[0] != 0x60)
        return 0;
    size_t hl = t[1] < 0x80 ? 2 : t[1] == 0x81 ? 3 : t[1] == 0x82 ? 4 : t[1] == 0x83 ? 5 : 0;
    if (!hl)
        return 0;
    if (n < hl + sizeof krb5_oid)
        return -1;
    return memcmp(t + hl, krb5_oid, sizeof krb5_oid) == 0;
}

/*
 * Is p[0..n) the start of a SASL buffer (RFC 4422 3.7)? 1 yes, with *len its length (after the 4 length bytes);
 * 0 no; -1 p ends first. With `sig` its token must also start as a wrap token does: for hunting in a stream
 * picked up mid-way, or where no bind said a security layer was coming.
 */
static int sasl_head(const uint8_t *p, size_t n, bool sig, uint32_t *len)
{
    if (n < 1)
        return -1;
    if (p[0] != 0)
        return 0;
    if (n < 4)
        return -1;
    uint32_t l = ld_u32be(p);
    if (l < SASL_BUF_MIN)
        return 0;
    *len = l;
    return sig ? wrap_token_start(p + 4, n - 4) : 1;
}

/*
 * In a stream to resynchronise: the offset of the first plausible PDU start in p[0..n) — an LDAPMessage header
 * or a SASL buffer whose token starts as a wrap token does. True with *at there; false with *at where the bytes
 * that may still start one begin (n when none can).
 */
static bool hunt(const uint8_t *p, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        int k;
        if (p[i] == 0x30) {
            struct ldap_head h;
            enum head e = msg_head(p + i, n - i, &h);
            k = e == HEAD_OK ? 1 : e == HEAD_SHORT ? -1 : 0;
        } else if (p[i] == 0x00) {
            uint32_t len;
            k = sasl_head(p + i, n - i, true, &len);
        } else {
            continue;
        }
        if (k) {
            *at = i;
            return k > 0;
        }
    }
    *at = n;
    return false;
}

/* ---- bind attempts --------------------------------------------------------------------------------------- */

static bool is_univ(const struct der_tlv *t, uint32_t tag)
{
    return t->cls == DER_UNIVERSAL && t->tag == tag && !t->constructed;
}

static void pending_add(struct ldap_state *st, uint32_t mid, uint64_t rec, uint8_t choice)
{
    struct ldap_pending *p = NULL;
    for (int i = 0; i < LDAP_PENDING_MAX && !p; i++)
        if (st->pend[i].used && st->pend[i].mid == mid)
            p = &st->pend[i];
    for (int i = 0; i < LDAP_PENDING_MAX && !p; i++)
        if (!st->pend[i].used)
            p = &st->pend[i];
    if (!p) { /* more unanswered binds than a client may have: the oldest slot gives way */
        p = &st->pend[st->next_slot];
        st->next_slot = (st->next_slot + 1) % LDAP_PENDING_MAX;
    }
    p->used = true;
    p->mid = mid;
    p->rec = rec;
    p->choice = choice;
}

static bool pending_take(struct ldap_state *st, uint32_t mid, struct ldap_pending *out)
{
    for (int i = 0; i < LDAP_PENDING_MAX; i++)
        if (st->pend[i].used && st->pend[i].mid == mid) {
            *out = st->pend[i];
            st->pend[i].used = false;
            return true;
        }
    return false;
}

static struct ldap_bind_leg *leg_add(struct auth_rec *r, uint32_t mid)
{
    struct auth_ldap *l = &r->ldap;
    if (l->nbinds >= LDAP_BINDS_MAX) {
        l->binds_dropped++;
        return NULL;
    }
    struct ldap_bind_leg *g = &l->binds[l->nbinds++];
    memset(g, 0, sizeof *g);
    g->message_id = mid;
    return g;
}

static struct ldap_bind_leg *leg_find(struct auth_rec *r, uint32_t mid)
{
    for (uint32_t i = r->ldap.nbinds; i-- > 0;)
        if (r->ldap.binds[i].message_id == mid && !r->ldap.binds[i].answered)
            return &r->ldap.binds[i];
    return NULL;
}

/* SASL mechanisms whose credentials are GSS tokens: RFC 4752, RFC 4178 (MS-ADTS 5.1.1.1.2), and Cyrus SASL's and
 * Samba's NTLM, which carries bare NTLMSSP messages. Mechanism names are upper case (RFC 4422 3.1). */
static bool sasl_is_gss(const char *mech)
{
    return strcmp(mech, "GSSAPI") == 0 || strcmp(mech, "GSS-SPNEGO") == 0 || strcmp(mech, "NTLM") == 0;
}

/* Does a GSSAPI leg's token look like a context token (InitialContextToken 60, SPNEGO a0/a1, NTLMSSP)? After
 * the context is established RFC 4752 3.1's legs carry wrap tokens (05 04), which are not for the dispatch. */
static bool gss_context_token(const uint8_t *p, size_t n)
{
    return n >= 8 && (p[0] == 0x60 || p[0] == 0xa0 || p[0] == 0xa1 || memcmp(p, "NTLMSSP", 8) == 0);
}

/* The mechanism a new attempt starts with, before its tokens refine it (gss_apply() keeps a set one). */
static enum auth_mech initial_mech(uint8_t choice, const char *sasl_mech)
{
    switch (choice) {
    case AUTH_SIMPLE:
        return AMECH_SIMPLE;
    case AUTH_SASL:
        if (strcmp(sasl_mech, "GSSAPI") == 0)
            return AMECH_KERBEROS; /* RFC 4752: Kerberos V5 only */
        if (strcmp(sasl_mech, "GSS-SPNEGO") == 0)
            return AMECH_NEGOTIATE; /* refined to negotiate/ntlm or negotiate/kerberos by the tokens */
        if (strcmp(sasl_mech, "NTLM") == 0)
            return AMECH_NTLM;
        return AMECH_SASL;
    case AUTH_SICILY_NEGOTIATE:
    case AUTH_SICILY_RESPONSE:
        return AMECH_NTLM;
    default:
        return AMECH_UNKNOWN;
    }
}

static enum ldap_auth auth_kind(uint8_t choice)
{
    switch (choice) {
    case AUTH_SIMPLE:
        return LDAP_AUTH_SIMPLE;
    case AUTH_SASL:
        return LDAP_AUTH_SASL;
    case AUTH_SICILY_DISCOVERY:
    case AUTH_SICILY_NEGOTIATE:
    case AUTH_SICILY_RESPONSE:
        return LDAP_AUTH_SICILY;
    default:
        return LDAP_AUTH_OTHER;
    }
}

/* BindRequest (RFC 4511 4.2). False when malformed. The simple choice's password is looked at for its length
 * only: never copied, never kept. */
static bool bind_request(struct hs_ctx *ctx, struct ldap_state *st, uint32_t mid, const struct der_tlv *op)
{
    struct der_tlv ver, name, auth;
    uint64_t v;
    if (!op->constructed)
        return false;
    struct rd b = der_inner(op);
    if (!der_next(&b, &ver) || !is_univ(&ver, DER_TAG_INTEGER) || !der_uint(ver.val, ver.len, &v) || v < 1 || v > 127 ||
        !der_next(&b, &name) || !is_univ(&name, DER_TAG_OCTET_STRING) || !der_next(&b, &auth) ||
        auth.cls != DER_CONTEXT)
        return false;

    uint8_t choice = auth.tag <= AUTH_SICILY_RESPONSE ? (uint8_t)auth.tag : AUTH_NONE;
    enum ldap_auth kind = auth_kind(choice);
    const uint8_t *cred = NULL;
    size_t clen = 0;
    char mech[32] = "";
    uint8_t simple = LDAP_SIMPLE_NONE;
    bool gss = false;
    switch (kind) {
    case LDAP_AUTH_SIMPLE:
        if (auth.constructed)
            return false;
        /* RFC 4513 5.1.1-5.1.3: whether a name and a password were given, never the password itself. */
        simple = auth.len ? LDAP_SIMPLE_PASSWORD : name.len ? LDAP_SIMPLE_UNAUTHENTICATED : LDAP_SIMPLE_ANONYMOUS;
        break;
    case LDAP_AUTH_SASL: {
        struct der_tlv mt, cr;
        if (!auth.constructed)
            return false;
        struct rd sc = der_inner(&auth);
        if (!der_next(&sc, &mt) || !is_univ(&mt, DER_TAG_OCTET_STRING))
            return false;
        strlcpy_n(mech, sizeof mech, (const char *)mt.val, mt.len);
        if (rd_left(&sc)) {
            if (!der_next(&sc, &cr) || !is_univ(&cr, DER_TAG_OCTET_STRING))
                return false;
            cred = cr.val;
            clen = cr.len;
        }
        gss = sasl_is_gss(mech) && (strcmp(mech, "GSSAPI") != 0 || gss_context_token(cred, clen));
        break;
    }
    case LDAP_AUTH_SICILY:
        if (auth.constructed)
            return false;
        cred = auth.val;
        clen = auth.len;
        gss = choice != AUTH_SICILY_DISCOVERY; /* its octet string is unused (MS-ADTS 5.1.1.1.3) */
        break;
    case LDAP_AUTH_UNKNOWN:
    case LDAP_AUTH_OTHER:
        break;
    }
    struct gss_token t;
    bool have = gss && clen && gss_blob_parse(ctx, cred, clen, &t) == 0;

    /* The next leg of the attempt the server asked to continue (RFC 4511 4.2.1: same mechanism), unless its
     * token starts a new authentication; else a new attempt. */
    struct auth_rec *r = ctx_auth_get(ctx, st->cur);
    bool cont =
        r && r->h.open && st->cur_continues && (r->ldap.auth == kind || r->ldap.auth == LDAP_AUTH_UNKNOWN) &&
        (kind == LDAP_AUTH_SICILY ||
         (kind == LDAP_AUTH_SASL && (!r->ldap.sasl_mechanism[0] || strcmp(mech, r->ldap.sasl_mechanism) == 0))) &&
        !(have && gss_token_starts(&t) && (r->frames.negotiate || r->frames.ap_req || r->gss.spnego.mech_types));
    if (!cont) {
        r = ctx_auth_new(ctx, TRANSPORT_LDAP);
        if (r)
            r->gss.mech = initial_mech(choice, mech);
    }
    pending_add(st, mid, r ? r->h.id : 0, choice);
    st->cur = r ? r->h.id : 0;
    st->cur_continues = false;
    if (!r)
        return true;
    struct auth_ldap *l = &r->ldap;
    l->version = (uint8_t)v;
    l->auth = (uint8_t)kind;
    if (kind == LDAP_AUTH_SIMPLE)
        l->simple = simple;
    if (!l->bind_dn[0])
        strlcpy_n(l->bind_dn, sizeof l->bind_dn, (const char *)name.val, name.len);
    if (mech[0] && !l->sasl_mechanism[0])
        strlcpy_n(l->sasl_mechanism, sizeof l->sasl_mechanism, mech, sizeof mech);
    if (r->gss.mech == AMECH_UNKNOWN)
        r->gss.mech = initial_mech(choice, mech);
    struct ldap_bind_leg *g = leg_add(r, mid);
    if (g)
        g->frame_req = ctx->frame;
    if (have)
        gss_apply(ctx, r, &t, 0, false);
    return true;
}

static int hexval(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*
 * Active Directory's code in a failed bind's diagnosticMessage ("80090308: LdapErr: DSID-0C090569, comment:
 * AcceptSecurityContext error, data 52e, v4563"): the 1-8 hex digits after the word "data", a Win32 error code.
 */
static bool ad_data_code(const uint8_t *p, size_t n, uint32_t *code)
{
    for (size_t i = 0; i + 5 < n; i++) {
        if (memcmp(p + i, "data ", 5) != 0 || (i && p[i - 1] != ' ' && p[i - 1] != ','))
            continue;
        uint32_t v = 0;
        size_t k = i + 5, d = 0;
        for (; k < n && d < 8 && hexval(p[k]) >= 0; k++, d++)
            v = v << 4 | (uint32_t)hexval(p[k]);
        if (d == 0 || (k < n && p[k] != ',' && p[k] != ' ' && p[k] != 0))
            continue;
        *code = v;
        return true;
    }
    return false;
}

/* BindResponse (RFC 4511 4.2.2) or SicilyBindResponse (MS-ADTS 5.1.1.1.3). False when malformed. */
static bool bind_response(struct hs_ctx *ctx, struct ldap_state *st, uint32_t mid, const struct der_tlv *op)
{
    struct der_tlv rc, mdn, diag, f;
    uint64_t code;
    if (!op->constructed)
        return false;
    struct rd b = der_inner(op);
    if (!der_next(&b, &rc) || !is_univ(&rc, DER_TAG_ENUMERATED) || !der_uint(rc.val, rc.len, &code) ||
        code > UINT32_MAX || !der_next(&b, &mdn) || !is_univ(&mdn, DER_TAG_OCTET_STRING) || !der_next(&b, &diag) ||
        !is_univ(&diag, DER_TAG_OCTET_STRING))
        return false;
    const uint8_t *creds = NULL;
    size_t clen = 0;
    while (rd_left(&b)) {
        if (!der_next(&b, &f))
            return false;
        if (f.cls == DER_CONTEXT && f.tag == 7 && !f.constructed) { /* serverSaslCreds; [3] referral not read */
            creds = f.val;
            clen = f.len;
        }
    }

    struct ldap_pending pd = {.choice = AUTH_NONE};
    bool asked = pending_take(st, mid, &pd);
    struct auth_rec *r = NULL;
    if (asked) {
        r = ctx_auth_get(ctx, pd.rec);
        if (!r)
            return true; /* no record could be made, or it was written already (caps) */
    } else {
        /* The request was not seen (the capture starts mid-connection): the response is an attempt of its own. */
        r = ctx_auth_new(ctx, TRANSPORT_LDAP);
        if (!r)
            return true;
    }
    struct auth_ldap *l = &r->ldap;
    struct ldap_bind_leg *g = leg_find(r, mid);
    if (!g)
        g = leg_add(r, mid);
    if (g) {
        g->frame_resp = ctx->frame;
        g->answered = true;
        g->result_code = (uint32_t)code;
    }
    l->has_result = true;
    l->result_code = (uint32_t)code;
    strlcpy_n(l->diagnostic, sizeof l->diagnostic, (const char *)diag.val, diag.len);
    l->has_ad_error = ad_data_code(diag.val, diag.len, &l->ad_error);
    l->matched_dn[0] = '\0';

    struct gss_token t;
    bool sicily_creds = mdn.len >= 8 && memcmp(mdn.val, "NTLMSSP", 8) == 0, challenge = false;
    if (sicily_creds && (l->auth == LDAP_AUTH_SICILY || l->auth == LDAP_AUTH_UNKNOWN)) {
        /* sicilyNegotiate's answer: the CHALLENGE in serverCreds, where matchedDN would be */
        if (l->auth == LDAP_AUTH_UNKNOWN) {
            l->auth = LDAP_AUTH_SICILY;
            if (r->gss.mech == AMECH_UNKNOWN)
                r->gss.mech = AMECH_NTLM;
        }
        if (gss_blob_parse(ctx, mdn.val, mdn.len, &t) == 0) {
            gss_apply(ctx, r, &t, 1, false);
            challenge = !gss_token_is_final(&t);
        }
    } else if (pd.choice == AUTH_SICILY_DISCOVERY) {
        strlcpy_n(l->sicily_packages, sizeof l->sicily_packages, (const char *)mdn.val, mdn.len);
    } else if (!sicily_creds) {
        strlcpy_n(l->matched_dn, sizeof l->matched_dn, (const char *)mdn.val, mdn.len);
    }
    if (clen) {
        /* serverSaslCreds: the server's GSS token for a GSS mechanism; for others (DIGEST-MD5's challenge) not
         * a token. A response alone is taken for SASL, whose tokens are parsed when they look like context ones. */
        if (l->auth == LDAP_AUTH_UNKNOWN)
            l->auth = LDAP_AUTH_SASL;
        bool gss = l->sasl_mechanism[0] ? sasl_is_gss(l->sasl_mechanism) : true;
        if (gss &&
            (strcmp(l->sasl_mechanism, "GSS-SPNEGO") == 0 || strcmp(l->sasl_mechanism, "NTLM") == 0 ||
             gss_context_token(creds, clen)) &&
            gss_blob_parse(ctx, creds, clen, &t) == 0)
            gss_apply(ctx, r, &t, 1, false);
    }

    /* saslBindInProgress asks for the next leg; so does success to the first two sicily legs (a CHALLENGE says
     * which when the request went unseen). */
    bool more = code == LDAP_SASL_BIND_IN_PROGRESS ||
                (code == LDAP_SUCCESS &&
                 (pd.choice == AUTH_SICILY_DISCOVERY || pd.choice == AUTH_SICILY_NEGOTIATE || challenge));
    st->cur = r->h.id;
    st->cur_continues = more;
    if (more)
        return true;
    rec_auth_verdict(r, ctx->frame, code == LDAP_SUCCESS ? RESULT_SUCCESS : RESULT_FAILURE,
                     hs_status_of(STATUS_LDAP, (uint32_t)code), VERDICT_LDAP_BIND);
    if (code == LDAP_SUCCESS && (l->auth == LDAP_AUTH_SASL || l->auth == LDAP_AUTH_SICILY))
        st->sasl_layer = true;
    return true;
}

/* ExtendedRequest (RFC 4511 4.12): only StartTLS (4.14.1) matters. */
static bool extended_request(struct ldap_state *st, uint32_t mid, const struct der_tlv *op)
{
    struct der_tlv nm;
    if (!op->constructed)
        return false;
    struct rd b = der_inner(op);
    if (!der_next(&b, &nm) || nm.cls != DER_CONTEXT || nm.tag != 0 || nm.constructed)
        return false;
    if (nm.len == sizeof starttls_oid - 1 && memcmp(nm.val, starttls_oid, nm.len) == 0) {
        st->starttls_pending = true;
        st->starttls_mid = mid;
    }
    return true;
}

/* ExtendedResponse (RFC 4511 4.12): success to StartTLS (4.14.2) turns the connection into TLS. */
static bool extended_response(struct ldap_state *st, uint32_t mid, const struct der_tlv *op)
{
    struct der_tlv rc, mdn, diag, f;
    uint64_t code;
    if (!op->constructed)
        return false;
    struct rd b = der_inner(op);
    if (!der_next(&b, &rc) || !is_univ(&rc, DER_TAG_ENUMERATED) || !der_uint(rc.val, rc.len, &code) ||
        !der_next(&b, &mdn) || !is_univ(&mdn, DER_TAG_OCTET_STRING) || !der_next(&b, &diag) ||
        !is_univ(&diag, DER_TAG_OCTET_STRING))
        return false;
    bool named = false; /* responseName [10] StartTLS: the request may have gone unseen */
    while (rd_left(&b)) {
        if (!der_next(&b, &f))
            return false;
        if (f.cls == DER_CONTEXT && f.tag == 10 && !f.constructed && f.len == sizeof starttls_oid - 1 &&
            memcmp(f.val, starttls_oid, f.len) == 0)
            named = true;
    }
    bool answers = st->starttls_pending && mid == st->starttls_mid;
    if (code == LDAP_SUCCESS && (answers || named))
        st->tls = true;
    if (answers)
        st->starttls_pending = false;
    return true;
}

/* One whole LDAPMessage of n bytes at p, its framing already checked. Malformed content is counted (DIS_LDAP). */
static void ldap_message(struct hs_ctx *ctx, struct ldap_state *st, const uint8_t *p, size_t n)
{
    struct rd r = rd_make(p, n);
    struct der_tlv msg, id, op;
    uint64_t mid;
    bool ok = false;
    if (der_next(&r, &msg)) {
        struct rd m = der_inner(&msg);
        if (der_next(&m, &id) && is_univ(&id, DER_TAG_INTEGER) && der_uint(id.val, id.len, &mid) &&
            mid <= LDAP_MSGID_MAX && der_next(&m, &op) && op.cls == DER_APPLICATION) {
            switch (op.tag) {
            case LDAP_BIND_REQUEST:
                ok = bind_request(ctx, st, (uint32_t)mid, &op);
                break;
            case LDAP_BIND_RESPONSE:
                ok = bind_response(ctx, st, (uint32_t)mid, &op);
                break;
            case LDAP_EXTENDED_REQUEST:
                ok = extended_request(st, (uint32_t)mid, &op);
                break;
            case LDAP_EXTENDED_RESPONSE:
                ok = extended_response(st, (uint32_t)mid, &op);
                break;
            default:
                ok = true; /* searches, modifications ...: framed and passed over */
                break;
            }
        }
    }
    if (!ok)
        ctx->st->malformed[DIS_LDAP]++;
}

/*
 * Frames LDAPMessages from n in-order bytes at p (direction dir, 0 client→server) and hands each whole one to
 * ldap_message(); a message over lim.max_pdu is skipped unread (pdu_oversize). SASL buffers (after a SASL bind,
 * or recognised by their wrap token) are skipped without being counted malformed. After a successful StartTLS
 * the direction is given up. Returns the bytes consumed, 0 when a message is incomplete. In resync mode it hunts
 * for a message or SASL buffer start first. A header that is neither is counted (DIS_LDAP) and resynchronised.
 */
static size_t ldap_parse(struct hs_ctx *ctx, void *state, int dir, const uint8_t *p, size_t n, struct hs_stream *s)
{
    struct ldap_state *st = state;
    size_t used = 0;
    if (st->tls) { /* the other direction saw StartTLS succeed: TLS records from here on */
        s->dead = true;
        return n;
    }
    if (s->resync) {
        size_t at;
        bool found = hunt(p, n, &at);
        if (!found)
            return at;
        s->resync = false;
        used = at;
    }
    while (used < n) {
        const uint8_t *q = p + used;
        size_t left = n - used;
        if (q[0] != 0x30) {
            if (dir == 0 && st->starttls_pending && q[0] == 0x16) {
                /* a TLS handshake record (RFC 8446 5.1) after StartTLS, whose response went unseen */
                st->tls = true;
                s->dead = true;
                return n;
            }
            uint32_t len;
            int k = sasl_head(q, left, !st->sasl_layer, &len);
            if (k < 0)
                return used;
            if (k == 0)
                goto malformed;
            st->sasl_layer = true;
            if (left - 4 >= len) {
                used += 4 + (size_t)len;
                continue;
            }
            s->skip = len - (left - 4);
            return n;
        }
        struct ldap_head h;
        enum head e = msg_head(q, left, &h);
        if (e == HEAD_SHORT)
            return used;
        if (e == HEAD_BAD)
            goto malformed;
        if (h.total > ctx->lim->max_pdu) {
            ctx->st->pdu_oversize++;
            if (left >= h.total) {
                used += (size_t)h.total;
                continue;
            }
            s->skip = h.total - left;
            return n;
        }
        if (left < h.total)
            return used;
        ldap_message(ctx, st, q, (size_t)h.total);
        used += (size_t)h.total;
        if (st->tls) {
            s->dead = true;
            return n;
        }
    }
    return used;
malformed:
    ctx->st->malformed[DIS_LDAP]++;
    s->resync = true;
    return used + 1;
}

static void *ldap_state_new(struct hs_ctx *ctx)
{
    (void)ctx;
    return calloc(1, sizeof(struct ldap_state));
}

static const uint16_t ldap_ports[] = {389, 3268, 0};

const struct hs_dissector dis_ldap = {
    .name = "ldap",
    .transport = 6,
    .ports = ldap_ports,
    .probe = ldap_probe,
    .threshold = 90,
    .state_new = ldap_state_new,
    .state_free = free,
    .parse = ldap_parse,
};

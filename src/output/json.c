/* JSON Lines writer: one object per record (field names in docs/RECORDS.md), a `stats` object last. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dcerpc_names.h"
#include "decode.h"
#include "format.h"
#include "jw.h"
#include "krbcrypt.h"
#include "names.h"
#include "ntlmproof.h"
#include "smb1.h"
#include "smb2.h"
#include "spnego.h"
#include "sensorjson.h"
#include "writer.h"
#include "jsonrec.h"

/*
 * Each record is written straight into the writer's reused buffer by jw.c (no jansson tree: building and freeing
 * one cost ~189,000 instructions a line, docs/ARCHITECTURE.md). The output is byte for byte what the tree gave
 * (JSON_COMPACT | JSON_PRESERVE_ORDER): members in the order they were added, and these habits of the tree kept:
 *   - a member whose value was NULL was not added: put_str() and put_elem() skip a NULL string;
 *   - objects added only when not empty: jw_object_end_or_drop();
 *   - members added to an object after it was built (a server's "names", the ntlm "signing") come last in it;
 *   - a byte that does not start valid UTF-8 becomes U+FFFD (jw_string), as json.c did before json_string().
 */

/* k: s. No member when s is NULL (json_object_set_new(o, k, NULL) added none). */
static void put_str(struct jw *w, const char *k, const char *s)
{
    if (!s)
        return;
    jw_key(w, k);
    jw_string(w, s);
}

/* k: s, only when s is neither NULL nor empty. */
static void set_str(struct jw *w, const char *k, const char *s)
{
    if (s && s[0])
        put_str(w, k, s);
}

/* An array element s; none when s is NULL (json_array_append_new(a, NULL) appended none). */
static void put_elem(struct jw *w, const char *s)
{
    if (s)
        jw_string(w, s);
}

static void put_int(struct jw *w, const char *k, int64_t v)
{
    jw_key(w, k);
    jw_int(w, v);
}

static void put_uint(struct jw *w, const char *k, uint64_t v)
{
    jw_key(w, k);
    jw_uint(w, v);
}

/*
 * k: v as json_pack's "i" wrote the json_int_t it was handed (status codes, HTTP statuses, a decrypted ticket's
 * kvno): "i" reads an int, so only the low 32 bits came through, signed. Kept so that the output stays what it
 * was; values below 2^31 (all ports, HTTP statuses, standard result codes) print as they are.
 */
static void put_int32(struct jw *w, const char *k, uint32_t v)
{
    put_int(w, k, (int32_t)v);
}

static void put_bool(struct jw *w, const char *k, bool v)
{
    jw_key(w, k);
    jw_bool(w, v);
}

/* k: f, a frame number, when there is one. */
static void set_frame(struct jw *w, const char *k, uint64_t f)
{
    if (f)
        put_uint(w, k, f);
}

/* "frames": [req, resp] */
static void put_frame_pair(struct jw *w, uint64_t req, uint64_t resp)
{
    jw_key(w, "frames");
    jw_array_begin(w);
    jw_uint(w, req);
    jw_uint(w, resp);
    jw_array_end(w);
}

/* Bit order of a flag word: MS-NLMP and GSS flags number bits from the least significant; Kerberos flag
 * words (RFC 4120 5.2.8 KerberosFlags) from the most significant (bit 0 = 0x80000000). */
enum bit_order { BITS_LSB0, BITS_MSB0 };

/* How an unnamed bit is spelt: its mask as "0x%08x" or "0x%x", or its number as "bit%u". */
enum unnamed_bit { UNNAMED_HEX8, UNNAMED_HEX, UNNAMED_NUMBER };

/*
 * k: the names of the set bits of v as an array, in bit order. name() gets the bit's mask (BITS_LSB0) or its
 * number (BITS_MSB0) and returns NULL for an unnamed bit, which is spelt as `unnamed` says.
 */
static void put_bits(struct jw *w, const char *k, uint32_t v, enum bit_order order, const char *(*name)(uint32_t key),
                     enum unnamed_bit unnamed)
{
    jw_key(w, k);
    jw_array_begin(w);
    for (uint32_t b = 0; b < 32; b++) {
        uint32_t mask = order == BITS_LSB0 ? 1u << b : 0x80000000u >> b;
        if (!(v & mask))
            continue;
        uint32_t key = order == BITS_LSB0 ? mask : b;
        const char *n = name(key);
        char buf[24];
        if (!n) {
            if (unnamed == UNNAMED_NUMBER)
                snprintf(buf, sizeof buf, "bit%u", (unsigned)b);
            else if (unnamed == UNNAMED_HEX8)
                hex_0x(buf, mask, 8);
            else
                snprintf(buf, sizeof buf, "0x%" PRIx32, mask);
            n = buf;
        }
        jw_string(w, n);
    }
    jw_array_end(w);
}

/* Kerberos flag names by bit number (kerberos.h takes an int). */
static const char *kdc_option_name(uint32_t b) { return krb_kdc_option_name((int)b); }
static const char *ticket_flag_name(uint32_t b) { return krb_ticket_flag_name((int)b); }
static const char *ap_option_name(uint32_t b) { return krb_ap_option_name((int)b); }
static const char *pac_option_name(uint32_t b) { return krb_pac_option_name((int)b); }

/* k: {"name": "STATUS_LOGON_FAILURE", "code": "0xc000006d"}, or {"name": "Unauthorized", "code": 401} for HTTP and
 * {"name": "invalidCredentials", "code": 49} for LDAP, whose codes are decimal in their RFCs */
static void put_status(struct jw *w, const char *k, struct hs_status st)
{
    const char *n = hs_status_name(st);
    jw_key(w, k);
    jw_object_begin(w);
    if (st.space == STATUS_HTTP || st.space == STATUS_LDAP) {
        put_str(w, "name", n ? n : "");
        put_int32(w, "code", st.code);
    } else {
        char hex[16];
        hex_0x(hex, st.code, 8);
        put_str(w, "name", n ? n : hex);
        put_str(w, "code", hex);
    }
    jw_object_end(w);
}

static void version_str(const struct ntlm_version_info *v, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u", v->major, v->minor, v->build);
}

/* k: true, false, or null when not checked. */
static void put_tri(struct jw *w, const char *k, int8_t v)
{
    jw_key(w, k);
    if (v == NTLM_UNCHECKED)
        jw_null(w);
    else
        jw_bool(w, v == NTLM_TRUE);
}

static void put_sigcheck(struct jw *w, const char *k, const struct ntlm_sigcheck *s)
{
    jw_key(w, k);
    jw_object_begin(w);
    put_uint(w, "frame", s->frame);
    put_str(w, "over", s->over);
    put_str(w, "matched", s->matched ? s->matched : "none");
    if (s->matched)
        put_int(w, "seqnum", s->seqnum);
    jw_object_end(w);
}

/* With --creds: what the credentials proved. Never a byte of a key, hash or response. */
static void put_proof(struct jw *w, const struct ntlm_proof *pf)
{
    jw_key(w, "verification");
    jw_object_begin(w);
    put_bool(w, "account_found", pf->account);
    if (pf->account) {
        put_tri(w, "nt_response_verified", pf->nt_verified);
        put_tri(w, "lm_response_verified", pf->lm_verified);
        if (pf->lm_hash_used)
            put_str(w, "lm_response_from", pf->lm_hash_used);
        put_bool(w, "client_has_lm_hash", pf->have_lm_hash);
        put_bool(w, "dc_has_lm_hash", pf->lm_stored);
        if (pf->mic_verified != NTLM_UNCHECKED)
            put_bool(w, "mic_verified", pf->mic_verified == NTLM_TRUE);
        jw_key(w, "keys");
        jw_array_begin(w);
        for (int i = 0; i < pf->nkeys; i++)
            put_elem(w, pf->keys[i].name);
        jw_array_end(w);
    }
    jw_object_end(w);
}

/* "signing": the first signed messages checked against the keys; for SMB1, also whether the server signed at all.
 * No member when nothing of it was seen. */
static void put_signing(struct jw *w, const struct auth_rec *r, const struct ntlm_proof *pf)
{
    const struct smb1_sig_seen *srv = NULL;
    if (r->transport == TRANSPORT_SMB1)
        for (int i = 0; i < r->smb1.n_sigs && !srv; i++)
            if (r->smb1.sigs[i].from_server)
                srv = &r->smb1.sigs[i];
    if (!pf->client_sig.frame && !pf->server_sig.frame && !srv)
        return;
    jw_key(w, "signing");
    jw_object_begin(w);
    if (srv && srv->kind != SMB1_SIG_MAC) {
        /* e.g. "BSRSPYL ": the server did not sign with any key */
        put_bool(w, "server_signed", false);
        put_uint(w, "server_frame", srv->frame);
    } else if (srv) {
        put_bool(w, "server_signed", true);
    }
    if (pf->client_sig.frame || pf->server_sig.frame) {
        if (pf->client_sig.frame)
            put_sigcheck(w, "client", &pf->client_sig);
        if (pf->server_sig.frame)
            put_sigcheck(w, "server", &pf->server_sig);
        const struct ntlm_sigcheck *first = pf->client_sig.frame ? &pf->client_sig : &pf->server_sig;
        put_str(w, "matched", first->matched ? first->matched : "none");
        put_uint(w, "frame", first->frame);
    }
    jw_object_end(w);
}

/* "ntlm": the NTLMSSP messages of record r (its signing last). */
static void put_ntlm(struct jw *w, const struct auth_rec *r)
{
    const struct gss_ntlm *g = &r->gss.ntlm;
    const struct ntlm_msg *a = g->auth;
    jw_key(w, "ntlm");
    jw_object_begin(w);
    put_str(w, "response_type", a ? ntlm_version_name(a->ntlm_version) : "unknown");
    if (a) {
        put_str(w, "user", a->user);
        put_str(w, "domain", a->domain);
        put_str(w, "workstation", a->workstation);
    }
    uint32_t flags = g->flags[2] ? g->flags[2] : g->flags[1] ? g->flags[1] : g->flags[0];
    put_bits(w, "flags", flags, BITS_LSB0, ntlmssp_flag_name, UNNAMED_HEX8);
    jw_key(w, "flags_hex");
    jw_object_begin(w);
    static const char *const which[3] = {"negotiate", "challenge", "authenticate"};
    for (int i = 0; i < 3; i++) {
        if (!g->flags[i])
            continue;
        char hex[16];
        hex_0x(hex, g->flags[i], 8);
        put_str(w, which[i], hex);
    }
    jw_object_end(w);
    if (a) {
        const char *resp[2];
        int nr = ntlm_responses(a->ntlm_version, a->lm_kind, resp);
        jw_key(w, "responses");
        jw_array_begin(w);
        for (int i = 0; i < nr; i++)
            put_elem(w, resp[i]);
        jw_array_end(w);
        const char *ks = ntlm_key_source(a->ntlm_version, g->flags[2]);
        if (ks)
            put_str(w, "key_source", ks);
        put_str(w, "lm_response", ntlm_lm_kind_name(a->lm_kind));
        put_int(w, "lm_response_len", a->lm_len);
        put_int(w, "nt_response_len", a->nt_len);
        put_bool(w, "session_key", a->session_key_len > 0);
        if (a->ntlm_version == NTLM_VER_NTLMV2) {
            static const char *const avf[3] = {"ACCOUNT_CONSTRAINED", "MIC_PRESENT", "SPN_UNTRUSTED"};
            jw_key(w, "av_flags");
            jw_array_begin(w);
            for (int i = 0; i < 3; i++)
                if (a->av_flags & (1u << i))
                    jw_string(w, avf[i]);
            jw_array_end(w);
            put_bool(w, "mic", a->mic_present);
            set_str(w, "spn", a->spn);
            put_bool(w, "channel_bindings", a->channel_bindings);
        }
        if (a->truncated)
            put_bool(w, "truncated", true);
    }
    char v[32];
    if (g->client_version.present) {
        version_str(&g->client_version, v, sizeof v);
        put_str(w, "client_version", v);
    }
    if (g->proof && g->proof->done)
        put_proof(w, g->proof);
    set_str(w, "negotiate_domain", g->neg_domain);
    set_str(w, "negotiate_workstation", g->neg_workstation);
    if (g->chal) {
        /* The ServerChallenge is not written: with a captured response it is what an offline cracker needs
         * (README, Secrets). */
        put_bool(w, "challenge_timestamp", g->chal->has_timestamp);
        set_str(w, "target_name", g->chal->target_name);
        if (g->chal->version.present) {
            version_str(&g->chal->version, v, sizeof v);
            put_str(w, "server_version", v);
        }
    }
    if (g->proof && g->proof->done)
        put_signing(w, r, g->proof);
    jw_object_end(w);
}

/* "names": the server's names from the CHALLENGE's AV pairs, when it gave any. */
static void put_server_names(struct jw *w, const struct ntlm_msg *c)
{
    if (!c)
        return;
    struct jw_mark m = jw_mark(w);
    jw_key(w, "names");
    jw_object_begin(w);
    set_str(w, "nb_computer", c->nb_computer);
    set_str(w, "nb_domain", c->nb_domain);
    set_str(w, "dns_computer", c->dns_computer);
    set_str(w, "dns_domain", c->dns_domain);
    set_str(w, "dns_tree", c->dns_tree);
    jw_object_end_or_drop(w, m);
}

/* k: {"ip": ..., "port": ...}, and the server's names from c (a CHALLENGE) when given. */
static void put_endpoint(struct jw *w, const char *k, uint8_t af, const struct hs_endpoint *ep,
                         const struct ntlm_msg *c)
{
    char ip[INET6_ADDRSTRLEN];
    format_ip(af, ep->ip, ip);
    jw_key(w, k);
    jw_object_begin(w);
    put_str(w, "ip", ip);
    put_int(w, "port", ep->port);
    put_server_names(w, c);
    jw_object_end(w);
}

/* One SMB tree connect (a use of an SMB2 or SMB1 session): share, status, frames[, service]. */
static void put_tree_connect(struct jw *w, const struct auth_use *u)
{
    jw_object_begin(w);
    put_str(w, "share", u->name);
    put_status(w, "status", u->status);
    put_frame_pair(w, u->frame_req, u->frame_resp);
    set_str(w, "service", u->service);
    jw_object_end(w);
}

/* One HTTP request made on an authenticated connection. */
static void put_request(struct jw *w, const struct auth_use *u)
{
    jw_object_begin(w);
    put_str(w, "method", u->method);
    put_str(w, "path", u->name);
    put_int32(w, "status", u->status.code);
    put_frame_pair(w, u->frame_req, u->frame_resp);
    jw_object_end(w);
}

/* One DCE/RPC call made on a security context. */
static void put_call(struct jw *w, const struct auth_use *u)
{
    jw_object_begin(w);
    if (u->iface)
        put_str(w, "interface", u->iface);
    put_str(w, "op", u->name);
    put_int(w, "opnum", u->opnum);
    if (u->detail_kind) /* "class", "namespace", "query", "method", "object_path": no other member's name */
        put_str(w, u->detail_kind, u->detail);
    if (u->answered)
        put_str(w, "result", u->status.space == STATUS_NCA ? "fault" : "response");
    if (u->status.space != STATUS_NONE)
        put_status(w, "status", u->status);
    put_frame_pair(w, u->frame_req, u->frame_resp);
    jw_object_end(w);
}

/* The uses of r under key k, each by put, then k_dropped; nothing when `uses` is false (a record handed over at
 * its verdict: its uses follow as `use` records). */
static void put_uses(struct jw *w, const struct auth_rec *r, bool uses, const char *k, const char *k_dropped,
                     void (*put)(struct jw *, const struct auth_use *))
{
    if (!uses)
        return;
    jw_key(w, k);
    jw_array_begin(w);
    for (uint32_t i = 0; i < r->nuses; i++)
        put(w, &r->uses[i]);
    jw_array_end(w);
    if (r->uses_dropped)
        put_uint(w, k_dropped, r->uses_dropped);
}

static void put_smb2(struct jw *w, const struct auth_rec *r, bool uses)
{
    jw_key(w, "smb2");
    jw_object_begin(w);
    const char *d = smb2_dialect_name(r->smb2.dialect);
    if (d)
        put_str(w, "dialect", d);
    char sid[24];
    hex_0x(sid, r->smb2.session_id, 16);
    put_str(w, "session_id", sid);
    if (r->smb2.session_flags_seen) {
        jw_key(w, "session_flags");
        jw_array_begin(w);
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_IS_GUEST)
            jw_string(w, "IS_GUEST");
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_IS_NULL)
            jw_string(w, "IS_NULL");
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA)
            jw_string(w, "ENCRYPT_DATA");
        jw_array_end(w);
    }
    put_uses(w, r, uses, "tree_connects", "tree_connects_dropped", put_tree_connect);
    jw_object_end(w);
}

/* "signing": SecuritySignature of the messages from the successful SESSION_SETUP_ANDX response on
 * (MS-CIFS 3.1.5.1). */
static void put_smb1_signing(struct jw *w, const struct auth_smb1 *a)
{
    static const char *const kind[] = {"zero", "placeholder", "mac"};
    jw_key(w, "signing");
    jw_object_begin(w);
    if (a->negotiate_seen) {
        put_bool(w, "server_enabled", a->security_mode & NEGOTIATE_SECURITY_SIGNATURES_ENABLED);
        put_bool(w, "server_required", a->security_mode & NEGOTIATE_SECURITY_SIGNATURES_REQUIRED);
    }
    put_bool(w, "client_enabled", a->client_signing);
    put_bool(w, "client_required", a->client_signing_required);
    if (a->n_sigs) {
        put_bool(w, "signed_after", a->signed_after);
        set_frame(w, "first_signed_frame", a->first_signed_frame);
        if (a->first_signed_resp_frame) {
            jw_key(w, "first_signed_response");
            jw_object_begin(w);
            put_uint(w, "frame", a->first_signed_resp_frame);
            put_status(w, "status", a->first_signed_resp_status);
            jw_object_end(w);
        }
        jw_key(w, "signatures");
        jw_array_begin(w);
        for (uint8_t i = 0; i < a->n_sigs && i < SMB1_SIG_WATCH; i++) {
            const struct smb1_sig_seen *e = &a->sigs[i];
            const char *cmd = smb1_command_name(e->command);
            char hex[8];
            snprintf(hex, sizeof hex, "0x%02x", e->command);
            jw_object_begin(w);
            put_uint(w, "frame", e->frame);
            put_str(w, "from", e->from_server ? "server" : "client");
            put_str(w, "command", cmd ? cmd : hex);
            put_str(w, "signature", kind[e->kind <= SMB1_SIG_MAC ? e->kind : 0]);
            if (e->status.space != STATUS_NONE)
                put_status(w, "status", e->status);
            jw_object_end(w);
        }
        jw_array_end(w);
    }
    jw_object_end(w);
}

static void put_smb1(struct jw *w, const struct auth_rec *r, bool uses)
{
    const struct auth_smb1 *a = &r->smb1;
    jw_key(w, "smb1");
    jw_object_begin(w);
    set_str(w, "dialect", a->dialect);
    if (a->n_dialects) {
        jw_key(w, "dialects_offered");
        jw_array_begin(w);
        for (uint8_t i = 0; i < a->n_dialects && i < SMB1_DIALECTS_MAX; i++)
            put_elem(w, a->dialects_offered[i]);
        jw_array_end(w);
    }
    put_int(w, "uid", a->uid);
    put_bool(w, "extended_security", a->extended_security);
    if (a->negotiate_seen) {
        put_bits(w, "security_mode", a->security_mode, BITS_LSB0, smb1_security_mode_name, UNNAMED_HEX);
        put_bits(w, "capabilities", a->capabilities, BITS_LSB0, smb1_capability_name, UNNAMED_HEX8);
    }
    if (a->action_seen)
        put_bits(w, "action", a->action, BITS_LSB0, smb1_action_name, UNNAMED_HEX);
    put_bool(w, "plaintext_password", a->plaintext_password);
    set_str(w, "client_native_os", a->client_native_os);
    set_str(w, "client_native_lanman", a->client_native_lanman);
    set_str(w, "server_native_os", a->server_native_os);
    set_str(w, "server_native_lanman", a->server_native_lanman);
    put_smb1_signing(w, a);
    put_uses(w, r, uses, "tree_connects", "tree_connects_dropped", put_tree_connect);
    jw_object_end(w);
}

static void put_http(struct jw *w, const struct auth_rec *r, bool uses)
{
    jw_key(w, "http");
    jw_object_begin(w);
    set_str(w, "scheme", r->http.scheme);
    put_uses(w, r, uses, "requests", "requests_dropped", put_request);
    jw_object_end(w);
}

static const struct tok verdict_sources[] = {
    {VERDICT_SESSION_SETUP, "session_setup"}, {VERDICT_HTTP_STATUS, "http_status"}, {VERDICT_BIND_ACK, "bind_ack"},
    {VERDICT_BIND_NAK, "bind_nak"}, {VERDICT_FIRST_CALL, "first_call"}, {VERDICT_LDAP_BIND, "ldap_bind"}, {0, NULL},
};

/* "dcerpc": the security context, the interface it was bound for, and the calls made with it. */
static void put_dcerpc(struct jw *w, const struct auth_rec *r, bool uses)
{
    const struct auth_dcerpc *d = &r->dcerpc;
    jw_key(w, "dcerpc");
    jw_object_begin(w);
    if (d->have_iface) {
        char uuid[37], ver[16];
        dcerpc_uuid_str(d->iface_uuid, d->iface_le, uuid);
        snprintf(ver, sizeof ver, "%u.%u", d->iface_vmaj, d->iface_vmin);
        if (d->iface_name)
            put_str(w, "interface", d->iface_name);
        put_str(w, "interface_uuid", uuid);
        put_str(w, "interface_version", ver);
    }
    const char *at = dcerpc_auth_type_name(d->auth_type), *al = dcerpc_auth_level_name(d->auth_level);
    if (at)
        put_str(w, "auth_type", at);
    else
        put_int(w, "auth_type", d->auth_type);
    if (al)
        put_str(w, "auth_level", al);
    else
        put_int(w, "auth_level", d->auth_level);
    put_uint(w, "auth_context_id", r->context_id);
    set_str(w, "pipe", d->pipe);
    if (r->carrier)
        put_uint(w, "carrier", r->carrier);
    set_str(w, "netlogon_domain", d->netlogon_domain);
    set_str(w, "netlogon_computer", d->netlogon_computer);
    put_bool(w, "three_leg", d->auth3);
    if (d->auth_level >= 6)
        put_bool(w, "stubs_sealed", true);
    if (d->dcom_activation) {
        jw_key(w, "dcom");
        jw_object_begin(w);
        put_uint(w, "activation", d->dcom_activation);
        if (d->dcom_have_clsid) {
            char u[37];
            dcerpc_uuid_str(d->dcom_clsid, 1, u);
            put_str(w, "clsid", u);
        }
        set_str(w, "class", d->dcom_class);
        jw_object_end(w);
    }
    const char *vs = tok_name(verdict_sources, r->verdict_source);
    if (vs)
        put_str(w, "verdict_from", vs);
    put_uses(w, r, uses, "calls", "calls_dropped", put_call);
    jw_object_end(w);
}

static const char *const ldap_auth_names[] = {NULL, "simple", "sasl", "sicily", "other"};
static const char *const ldap_simple_names[] = {NULL, "anonymous", "unauthenticated", "password"};

/* "ldap": the bind (never the simple bind's password), its result, and each BindRequest/BindResponse. */
static void put_ldap(struct jw *w, const struct auth_rec *r)
{
    const struct auth_ldap *l = &r->ldap;
    jw_key(w, "ldap");
    jw_object_begin(w);
    if (l->version) { /* a BindRequest was seen */
        put_int(w, "version", l->version);
        put_str(w, "bind_dn", l->bind_dn);
    }
    if (l->auth != LDAP_AUTH_UNKNOWN && l->auth < sizeof ldap_auth_names / sizeof *ldap_auth_names)
        put_str(w, "auth", ldap_auth_names[l->auth]);
    if (l->auth == LDAP_AUTH_SIMPLE && l->simple && l->simple < sizeof ldap_simple_names / sizeof *ldap_simple_names) {
        put_bool(w, "simple_anonymous", l->simple != LDAP_SIMPLE_PASSWORD);
        put_str(w, "simple_method", ldap_simple_names[l->simple]);
    }
    set_str(w, "sasl_mechanism", l->sasl_mechanism);
    set_str(w, "sicily_packages", l->sicily_packages);
    if (l->has_result)
        put_status(w, "result_code", hs_status_of(STATUS_LDAP, l->result_code));
    set_str(w, "matched_dn", l->matched_dn);
    set_str(w, "diagnostic_message", l->diagnostic);
    if (l->has_ad_error) {
        char hex[16];
        const char *meaning;
        const char *n = ldap_ad_error_name(l->ad_error, &meaning);
        snprintf(hex, sizeof hex, "%" PRIx32, l->ad_error);
        jw_key(w, "ad_error");
        jw_object_begin(w);
        put_str(w, "code", hex);
        set_str(w, "name", n);
        set_str(w, "meaning", meaning);
        jw_object_end(w);
    }
    jw_key(w, "binds");
    jw_array_begin(w);
    for (uint32_t i = 0; i < l->nbinds && i < LDAP_BINDS_MAX; i++) {
        const struct ldap_bind_leg *g = &l->binds[i];
        jw_object_begin(w);
        put_uint(w, "message_id", g->message_id);
        set_frame(w, "request", g->frame_req);
        set_frame(w, "response", g->frame_resp);
        if (g->answered)
            put_status(w, "result_code", hs_status_of(STATUS_LDAP, g->result_code));
        jw_object_end(w);
    }
    jw_array_end(w);
    if (l->binds_dropped)
        put_uint(w, "binds_dropped", l->binds_dropped);
    jw_object_end(w);
}

/* "spnego", when a mechanism list or a negState was seen. */
static void put_spnego(struct jw *w, const struct gss_spnego *s)
{
    if (!s->mech_types && s->neg_state == NEG_STATE_ABSENT)
        return;
    jw_key(w, "spnego");
    jw_object_begin(w);
    jw_key(w, "mech_types");
    jw_array_begin(w);
    for (int i = 0; i < 8; i++)
        if (s->mech_types & (1u << i))
            put_elem(w, gss_mech_name((enum gss_mech)(1u << i)));
    jw_array_end(w);
    const char *ns = spnego_neg_state_name(s->neg_state);
    if (ns)
        put_str(w, "neg_state", ns);
    put_bool(w, "mech_list_mic", s->mech_list_mic);
    jw_object_end(w);
}

/* An enctype as a string value: its name where known, else its number. */
static void etype_value(struct jw *w, int32_t et)
{
    const char *n = krb_etype_name(et);
    if (n) {
        jw_string(w, n);
        return;
    }
    char buf[21];
    jw_string(w, dec_str(buf, et));
}

static void put_etype(struct jw *w, const char *k, int32_t et)
{
    jw_key(w, k);
    etype_value(w, et);
}

/* k: a list of enctypes, by name where known. */
static void put_etypes(struct jw *w, const char *k, const int32_t *v, int n)
{
    jw_key(w, k);
    jw_array_begin(w);
    for (int i = 0; i < n; i++)
        etype_value(w, v[i]);
    jw_array_end(w);
}

/* k: a list of PA-DATA types, by name where known, else as a number (in a string). */
static void put_padata(struct jw *w, const char *k, const int32_t *v, int n)
{
    jw_key(w, k);
    jw_array_begin(w);
    for (int i = 0; i < n; i++) {
        const char *name = krb_padata_name(v[i]);
        char buf[21];
        if (!name)
            name = dec_str(buf, v[i]);
        jw_string(w, name);
    }
    jw_array_end(w);
}

/* The members of a ticket reference, in an object the caller opened (and may add to). */
static void ticket_ref_members(struct jw *w, const struct kdc_ticket_ref *t)
{
    put_str(w, "digest", t->digest);
    set_str(w, "sname", t->sname);
    set_str(w, "client", t->client);
    set_frame(w, "issued_frame", t->issued_frame);
}

static void put_ticket_ref(struct jw *w, const char *k, const struct kdc_ticket_ref *t)
{
    if (k)
        jw_key(w, k);
    jw_object_begin(w);
    ticket_ref_members(w, t);
    jw_object_end(w);
}

/* The members of a KRB-ERROR, in an object the caller opened (and may add to). */
static void krb_error_members(struct jw *w, int32_t code, const char *e_text, bool has_nt, uint32_t nt)
{
    const char *n = krb_error_name(code);
    put_int(w, "code", code);
    put_str(w, "name", n ? n : "");
    set_str(w, "e_text", e_text);
    if (has_nt)
        put_status(w, "ntstatus", hs_status_of(STATUS_NTSTATUS, nt));
}

/* k: a KerberosTime as RFC 3339 (as it came when not of the usual shape), when there is one. */
static void set_time(struct jw *w, const char *k, const char *t)
{
    char out[24];
    if (t[0])
        put_str(w, k, format_krb_time(t, out) ? out : t);
}

/* k: what decrypting a ticket revealed (never key material), or why it could not be decrypted; an array element
 * when k is NULL. */
static void put_dec_ticket(struct jw *w, const char *k, const struct kdc_decrypted *d)
{
    if (k)
        jw_key(w, k);
    jw_object_begin(w);
    if (!d->t.decrypted) {
        put_bool(w, "decrypted", false);
        set_str(w, "why", d->why);
        jw_object_end(w);
        return;
    }
    const struct kc_ticket *t = &d->t;
    char client[2 * KC_NAME_MAX + 2];
    put_bool(w, "decrypted", true);
    jw_key(w, "key");
    jw_object_begin(w);
    put_str(w, "principal", t->key_principal);
    put_int32(w, "kvno", t->key_kvno);
    jw_object_end(w);
    kdc_principal_join(client, sizeof client, t->cname, t->crealm);
    put_str(w, "client", client);
    put_bits(w, "flags", t->flags, BITS_MSB0, ticket_flag_name, UNNAMED_NUMBER);
    if (t->session_key.present)
        put_etype(w, "session_key_etype", t->session_key.enctype);
    set_time(w, "authtime", t->authtime);
    set_time(w, "starttime", t->starttime);
    set_time(w, "endtime", t->endtime);
    set_time(w, "renew_till", t->renew_till);
    set_str(w, "transited", t->transited);
    if (t->has_pac) {
        jw_key(w, "pac");
        jw_object_begin(w);
        set_str(w, "user", t->pac_user);
        set_str(w, "domain", t->pac_domain);
        set_str(w, "upn", t->pac_upn);
        set_str(w, "dns_domain", t->pac_dns_domain);
        set_str(w, "user_sid", t->user_sid);
        jw_key(w, "group_sids");
        jw_array_begin(w);
        for (int i = 0; i < t->n_group_sids; i++)
            put_elem(w, t->group_sids[i]);
        jw_array_end(w);
        jw_object_end(w);
    }
    jw_object_end(w);
}

/* k: what decrypting an authenticator revealed: the GSS flags (DELEG!) and any delegated TGT. */
static void put_dec_auth(struct jw *w, const char *k, const struct kdc_decrypted_auth *d)
{
    const struct kc_authenticator *a = &d->a;
    jw_key(w, k);
    jw_object_begin(w);
    if (!a->decrypted) {
        put_bool(w, "decrypted", false);
        set_str(w, "why", d->why);
        jw_object_end(w);
        return;
    }
    char client[2 * KC_NAME_MAX + 2];
    put_bool(w, "decrypted", true);
    kdc_principal_join(client, sizeof client, a->cname, a->crealm);
    put_str(w, "client", client);
    set_time(w, "ctime", a->ctime);
    if (a->has_seq)
        put_int(w, "seq", a->seq);
    if (a->subkey.present)
        put_etype(w, "subkey_etype", a->subkey.enctype);
    if (a->cksum_type) {
        char ct[16];
        snprintf(ct, sizeof ct, "0x%04x", (unsigned)a->cksum_type);
        put_str(w, "cksum_type", ct);
    }
    if (a->has_gss_flags)
        put_bits(w, "gss_flags", a->gss_flags, BITS_LSB0, kc_gss_flag_name, UNNAMED_HEX);
    if (a->has_deleg) {
        jw_key(w, "delegated");
        jw_object_begin(w);
        put_bool(w, "decrypted", a->deleg_decrypted);
        set_str(w, "principal", a->deleg_principal);
        set_str(w, "sname", a->deleg_sname);
        if (a->deleg_decrypted)
            put_bits(w, "flags", a->deleg_flags, BITS_MSB0, ticket_flag_name, UNNAMED_NUMBER);
        jw_object_end(w);
    }
    jw_object_end(w);
}

/* "kerberos": the AP exchange of an auth record. */
static void put_auth_krb(struct jw *w, const struct gss_krb *k)
{
    jw_key(w, "kerberos");
    jw_object_begin(w);
    put_bool(w, "ap_req", k->ap_req);
    put_bool(w, "ap_rep", k->ap_rep);
    put_bool(w, "krb_error", k->error);
    if (k->ap_req && k->ticket.digest[0]) {
        set_str(w, "client", k->ticket.client);
        set_str(w, "spn", k->spn);
        set_str(w, "realm", k->realm);
        put_etype(w, "etype", k->etype);
        if (k->has_kvno)
            put_int(w, "kvno", k->kvno);
        put_bits(w, "ap_options", k->ap_options, BITS_MSB0, ap_option_name, UNNAMED_NUMBER);
        put_etype(w, "authenticator_etype", k->auth_etype);
        put_ticket_ref(w, "ticket", &k->ticket);
    }
    if (k->dec_ticket || k->dec_auth) {
        jw_key(w, "decrypted");
        jw_object_begin(w);
        if (k->dec_ticket)
            put_dec_ticket(w, "ticket", k->dec_ticket);
        if (k->dec_auth)
            put_dec_auth(w, "authenticator", k->dec_auth);
        jw_object_end(w);
    }
    if (k->error) {
        jw_key(w, "error");
        jw_object_begin(w);
        krb_error_members(w, k->error_code, k->e_text, false, 0);
        jw_object_end(w);
    }
    jw_object_end(w);
}

/* "type", "id", "ts", in that order, opening every record. */
static void record_head(struct jw *w, const char *type, const struct rec_hdr *h)
{
    char ts[32];
    format_ts(&h->ts, ts);
    jw_object_begin(w);
    put_str(w, "type", type);
    put_uint(w, "id", h->id);
    put_str(w, "ts", ts);
}

/* One `auth` record; without `uses` (handed over at its verdict), its uses left out. */
static void put_auth_record(struct jw *w, const struct auth_rec *r, bool uses)
{
    record_head(w, "auth", &r->h);
    jw_key(w, "frames");
    jw_object_begin(w);
    set_frame(w, "negotiate", r->frames.negotiate);
    set_frame(w, "challenge", r->frames.challenge);
    set_frame(w, "authenticate", r->frames.authenticate);
    set_frame(w, "ap_req", r->frames.ap_req);
    set_frame(w, "ap_rep", r->frames.ap_rep);
    set_frame(w, "verdict", r->frames.verdict);
    jw_object_end(w);
    put_str(w, "community_id", r->h.community_id);
    put_endpoint(w, "client", r->h.flow.af, &r->h.flow.cli, NULL);
    put_endpoint(w, "server", r->h.flow.af, &r->h.flow.srv, r->gss.ntlm.chal);
    put_str(w, "transport", auth_transport_name(r->transport));
    put_str(w, "service", auth_service_name(r));
    put_str(w, "mechanism", auth_mech_name(r->gss.mech));
    {
        /* who, in one place for jq (`.user`), and where the name comes from */
        char who[2 * NTLM_NAME_MAX + 2];
        const char *from = auth_user(r, who, sizeof who);
        if (from) {
            put_str(w, "user", who);
            put_str(w, "user_from", from);
        }
    }
    if (r->gss.ntlm.seen)
        put_ntlm(w, r);
    put_spnego(w, &r->gss.spnego);
    if (r->gss.krb.ap_req || r->gss.krb.ap_rep || r->gss.krb.error)
        put_auth_krb(w, &r->gss.krb);
    if (r->gss.mech == AMECH_BASIC) {
        jw_key(w, "basic");
        jw_object_begin(w);
        put_str(w, "user", r->gss.basic_user);
        jw_object_end(w);
    }
    switch (r->transport) {
    case TRANSPORT_SMB2:
        put_smb2(w, r, uses);
        break;
    case TRANSPORT_HTTP:
        put_http(w, r, uses);
        break;
    case TRANSPORT_LDAP:
        put_ldap(w, r);
        break;
    case TRANSPORT_SMB1:
        put_smb1(w, r, uses);
        break;
    case TRANSPORT_DCERPC:
        put_dcerpc(w, r, uses);
        break;
    case TRANSPORT_OTHER: /* nothing but the tokens is known of the protocol around them */
        break;
    }
    put_str(w, "result", auth_result_name(r->result));
    if (r->status.space != STATUS_NONE)
        put_status(w, "status", r->status);
    jw_object_end(w);
}

/* One `kerberos` record: a KDC exchange. */
static void put_kdc_record(struct jw *w, const struct kdc_rec *r)
{
    record_head(w, "kerberos", &r->h);
    jw_key(w, "frames");
    jw_object_begin(w);
    set_frame(w, "request", r->frame_req);
    set_frame(w, "reply", r->frame_rep);
    jw_object_end(w);
    put_str(w, "community_id", r->h.community_id);
    put_endpoint(w, "client", r->h.flow.af, &r->h.flow.cli, NULL);
    put_endpoint(w, "server", r->h.flow.af, &r->h.flow.srv, NULL);
    put_str(w, "transport", r->udp ? "udp" : "tcp");
    put_str(w, "kind", kdc_kind_name(r->kind));
    if (r->req_type)
        put_str(w, "request", krb_msg_type_name(r->req_type));
    if (r->rep_type)
        put_str(w, "reply", krb_msg_type_name(r->rep_type));
    char client[2 * KRB_NAME_MAX + 2];
    const char *cfrom = kdc_rec_client(r, client, sizeof client);
    if (cfrom) {
        put_str(w, "cname", client);
        put_str(w, "cname_from", cfrom);
        char uf[32];
        snprintf(uf, sizeof uf, "kerberos_%s", cfrom);
        put_str(w, "user", client);
        put_str(w, "user_from", uf);
        /* the cname as the request or error named it: its name-type tells an NT-ENTERPRISE "user@dns.domain"
         * from an ordinary name@REALM */
        if (r->has_cname_type && (!strcmp(cfrom, "request") || !strcmp(cfrom, "error"))) {
            const char *nt = krb_name_type_name(r->cname_type);
            if (nt)
                put_str(w, "cname_type", nt);
            else
                put_int(w, "cname_type", r->cname_type);
        }
    }
    char sname[2 * KRB_NAME_MAX + 2];
    kdc_principal_join(sname, sizeof sname, r->sname, r->realm);
    set_str(w, "sname", sname);
    set_str(w, "realm", r->realm);
    if (r->req_type) {
        put_bits(w, "kdc_options", r->kdc_options, BITS_MSB0, kdc_option_name, UNNAMED_NUMBER);
        put_etypes(w, "etypes", r->etypes, r->n_etypes);
        put_padata(w, "padata", r->padata, r->n_padata);
        set_time(w, "till", r->till);
        put_int(w, "nonce", r->nonce);
        if (r->n_addresses) {
            jw_key(w, "addresses");
            jw_array_begin(w);
            for (int i = 0; i < r->n_addresses; i++)
                jw_string(w, r->addresses[i]);
            jw_array_end(w);
        }
        if (r->include_pac >= 0)
            put_bool(w, "include_pac", r->include_pac);
        if (r->has_pac_options)
            put_bits(w, "pac_options", r->pac_options, BITS_MSB0, pac_option_name, UNNAMED_NUMBER);
        if (r->kind == KDC_KIND_S4U2PROXY)
            put_bool(w, "rbcd_requested", r->has_pac_options && (r->pac_options & (0x80000000u >> 3)));
    }
    if (r->for_user_via) {
        char u[2 * KRB_NAME_MAX + 2];
        kdc_principal_join(u, sizeof u, r->for_user, r->for_user_realm);
        jw_key(w, "impersonated");
        jw_object_begin(w);
        put_str(w, "user", u);
        put_str(w, "via", krb_padata_name(r->for_user_via));
        jw_object_end(w);
    } else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl && r->addl[0].client[0]) {
        /* The evidence ticket is the one the user presented to the service: its holder is on whose behalf. */
        jw_key(w, "impersonated");
        jw_object_begin(w);
        put_str(w, "user", r->addl[0].client);
        put_str(w, "via", "evidence-ticket");
        jw_object_end(w);
    }
    struct jw_mark m = jw_mark(w);
    jw_key(w, "tickets");
    jw_object_begin(w);
    if (r->has_tgt)
        put_ticket_ref(w, "tgt", &r->tgt);
    if (r->n_addl) {
        jw_key(w, "additional");
        jw_array_begin(w);
        for (int i = 0; i < r->n_addl; i++)
            put_ticket_ref(w, NULL, &r->addl[i]);
        jw_array_end(w);
    }
    if (r->has_ticket) {
        jw_key(w, "reply");
        jw_object_begin(w);
        ticket_ref_members(w, &r->ticket);
        put_etype(w, "etype", r->ticket_etype);
        if (r->ticket_has_kvno)
            put_int(w, "kvno", r->ticket_kvno);
        jw_object_end(w);
    }
    jw_object_end_or_drop(w, m);
    if (r->rep_type == KRB_AS_REP || r->rep_type == KRB_TGS_REP)
        put_etype(w, "enc_part_etype", r->enc_part_etype);
    m = jw_mark(w);
    jw_key(w, "decrypted");
    jw_object_begin(w);
    if (r->dec_tgt)
        put_dec_ticket(w, "tgt", r->dec_tgt);
    if (r->dec_tgs_auth)
        put_dec_auth(w, "tgs_authenticator", r->dec_tgs_auth);
    struct jw_mark ma = jw_mark(w);
    jw_key(w, "additional");
    jw_array_begin(w);
    for (int i = 0; i < r->n_addl; i++)
        if (r->dec_addl[i])
            put_dec_ticket(w, NULL, r->dec_addl[i]);
    jw_array_end_or_drop(w, ma);
    if (r->dec_reply)
        put_dec_ticket(w, "reply", r->dec_reply);
    jw_object_end_or_drop(w, m);
    const char *result = r->rep_type == KRB_ERROR ? "failure" : r->rep_type ? "success" : "unknown";
    put_str(w, "result", result);
    if (r->rep_type == KRB_ERROR) {
        jw_key(w, "error");
        jw_object_begin(w);
        krb_error_members(w, r->error_code, r->e_text, r->has_ntstatus, r->ntstatus);
        /* the error's own realm and sname, when they differ from what the client asked for */
        if (r->err_realm[0] && strcmp(r->err_realm, r->realm) != 0)
            put_str(w, "realm", r->err_realm);
        if (r->err_sname[0] && strcmp(r->err_sname, r->sname) != 0) {
            char es[2 * KRB_NAME_MAX + 2];
            kdc_principal_join(es, sizeof es, r->err_sname, r->err_realm);
            put_str(w, "sname", es);
        }
        if (r->n_e_padata)
            put_padata(w, "e_data_padata", r->e_padata, r->n_e_padata);
        if (r->n_etype_info2)
            put_etypes(w, "etype_info2", r->etype_info2, r->n_etype_info2);
        jw_object_end(w);
    }
    jw_object_end(w);
}

/* One `dcom` record: an activation or OXID resolution, and the connection its string bindings led to. */
static void put_dcom_record(struct jw *w, const struct dcom_rec *d)
{
    record_head(w, "dcom", &d->h);
    jw_key(w, "frames");
    jw_object_begin(w);
    set_frame(w, "request", d->frame_req);
    set_frame(w, "response", d->frame_resp);
    jw_object_end(w);
    put_str(w, "community_id", d->h.community_id);
    put_endpoint(w, "client", d->h.flow.af, &d->h.flow.cli, NULL);
    put_endpoint(w, "server", d->h.flow.af, &d->h.flow.srv, NULL);
    set_str(w, "interface", d->iface);
    if (d->op)
        put_str(w, "op", d->op);
    put_int(w, "opnum", d->opnum);
    if (d->auth_level) {
        const char *al = dcerpc_auth_level_name(d->auth_level);
        if (al)
            put_str(w, "auth_level", al);
        else
            put_int(w, "auth_level", d->auth_level);
    }
    if (d->auth)
        put_uint(w, "auth_record", d->auth);
    set_str(w, "user", d->user);
    if (d->sealed_req || d->sealed_resp)
        put_bool(w, "sealed", true);
    if (d->have_com_version) {
        char v[16];
        snprintf(v, sizeof v, "%u.%u", d->com_major, d->com_minor);
        put_str(w, "com_version", v);
    }
    if (d->have_clsid) {
        char u[37];
        dcerpc_uuid_str(d->clsid, 1, u);
        put_str(w, "clsid", u);
        set_str(w, "class", d->class_name);
    }
    jw_key(w, "bindings");
    jw_array_begin(w);
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++) {
        const struct dcom_binding *e = &d->bindings[i];
        const char *t = dcom_tower_name(e->tower_id);
        char tn[16];
        if (!t) {
            snprintf(tn, sizeof tn, "tower_0x%02x", e->tower_id);
            t = tn;
        }
        jw_object_begin(w);
        put_str(w, "protseq", t);
        put_str(w, "address", e->addr);
        jw_object_end(w);
    }
    jw_array_end(w);
    if (d->bindings_cut)
        put_bool(w, "bindings_truncated", true);
    if (d->linked) {
        jw_key(w, "connection");
        jw_object_begin(w);
        put_str(w, "community_id", d->conn_community_id);
        put_endpoint(w, "client", d->conn.af, &d->conn.cli, NULL);
        put_endpoint(w, "server", d->conn.af, &d->conn.srv, NULL);
        jw_key(w, "records");
        jw_array_begin(w);
        for (uint8_t i = 0; i < d->n_conn_records && i < DCOM_LINKED_MAX; i++)
            jw_uint(w, d->conn_records[i]);
        jw_array_end(w);
        jw_object_end(w);
    }
    const char *result = "unknown";
    if (d->fault)
        result = "failure";
    else if (d->status.space == STATUS_HRESULT)
        result = (d->status.code & 0x80000000u) ? "failure" : "success";
    else if (d->status.space == STATUS_WIN32)
        result = d->status.code ? "failure" : "success";
    put_str(w, "result", result);
    if (d->status.space != STATUS_NONE)
        put_status(w, "status", d->status);
    jw_object_end(w);
}

/* The parsers' malformed counters, in the order the stats record lists them (one line per parser). */
static const struct {
    const char *name;
    enum hs_malformed i;
} malformed_names[] = {
    {"nbss", DIS_NBSS},
    {"smb1", DIS_SMB1},
    {"smb2", DIS_SMB2},
    {"http", DIS_HTTP},
    {"spnego", DIS_SPNEGO},
    {"ntlmssp", DIS_NTLMSSP},
    {"kerberos", DIS_KERBEROS},
    {"dcerpc", DIS_DCERPC},
    {"ldap", DIS_LDAP},
    {"ntlmssp_fields", DIS_NTLMSSP_FIELDS},
    {"ntlmssp_odd_utf16", DIS_NTLMSSP_ODD_UTF16},
};

/* A counter as a member. */
struct counter {
    const char *name;
    uint64_t v;
};

/* k: {name: v, ...} for the n counters c. */
static void put_counters(struct jw *w, const char *k, const struct counter *c, size_t n)
{
    jw_key(w, k);
    jw_object_begin(w);
    for (size_t i = 0; i < n; i++)
        put_uint(w, c[i].name, c[i].v);
    jw_object_end(w);
}

#define COUNTERS(w, k, ...)                                                                                            \
    do {                                                                                                               \
        const struct counter c_[] = {__VA_ARGS__};                                                                     \
        put_counters(w, k, c_, sizeof c_ / sizeof *c_);                                                                \
    } while (0)

/* A `stats` record: "type", "ts", "final" first, the counters, then what is held now and the capture's own. */
static void put_stats(struct jw *w, const struct hs_stats_view *v)
{
    const struct hs_stats *s = v->st;
    const struct decode_stats *d = v->dec;
    jw_object_begin(w);
    put_str(w, "type", "stats");
    if (v->has_ts) {
        char ts[32];
        format_ts(&v->ts, ts);
        put_str(w, "ts", ts);
    }
    put_bool(w, "final", !v->periodic);
    put_bool(w, "interrupted", s->interrupted);
    put_uint(w, "packets", s->packets);
    put_uint(w, "bytes", s->bytes);
    put_uint(w, "tcp_packets", s->tcp_packets);
    put_uint(w, "udp_packets", s->udp_packets);
    put_uint(w, "flows", s->flows);
    put_uint(w, "flows_expired", s->flows_expired);
    put_uint(w, "auth_records", s->records);
    put_uint(w, "kerberos_records", s->kdc_records);
    put_uint(w, "tickets_not_decrypted", s->krb_undecrypted);
    put_uint(w, "smb2_encrypted", s->smb2_encrypted);
    COUNTERS(w, "tcp", {"gaps", s->tcp_gaps}, {"gap_bytes", s->tcp_gap_bytes}, {"retransmitted", s->tcp_retransmitted},
             {"overlaps", s->tcp_overlaps}, {"conflicts", s->tcp_conflicts}, {"out_of_order", s->tcp_out_of_order});
    COUNTERS(w, "decode", {"non_ip", d->non_ip}, {"other_transport", d->other_transport}, {"truncated", d->truncated},
             {"vlan_tags", d->vlan}, {"gre", d->gre}, {"erspan", d->erspan}, {"vxlan", d->vxlan}, {"ip_in_ip", d->ipip},
             {"ipv4_fragments", d->ipv4_fragments}, {"ipv4_reassembled", d->ipv4_reassembled},
             {"ipv4_tso_length0", d->ipv4_tso});
    jw_key(w, "malformed");
    jw_object_begin(w);
    put_uint(w, "link", d->malformed_link);
    put_uint(w, "ip", d->malformed_ip);
    put_uint(w, "tcp", d->malformed_tcp);
    put_uint(w, "tunnel", d->malformed_tunnel);
    for (size_t i = 0; i < sizeof malformed_names / sizeof *malformed_names; i++)
        put_uint(w, malformed_names[i].name, s->malformed[malformed_names[i].i]);
    jw_object_end(w);
    COUNTERS(w, "dropped", {"flows_evicted", s->flows_evicted}, {"ooo_bytes", s->ooo_dropped_bytes},
             {"pdu_oversize", s->pdu_oversize}, {"ipv4_fragments", d->ipv4_frag_dropped},
             {"ipv6_fragments", d->ipv6_fragments}, {"records", s->records_dropped}, {"uses", s->uses_dropped},
             {"partial_at_close", s->partial_at_close}, {"flows_evicted_memory", s->memory_evicted});
    COUNTERS(w, "capped", {"records_written_early", s->records_written_early},
             {"kdc_requests_written_early", s->kdc_written_early}, {"closed_flows_forgotten", s->closed_forgotten});
    COUNTERS(w, "time", {"steps_back", s->time_steps_back}, {"steps_forward", s->time_steps_forward});
    /* what is held now, and a live capture's own counters: the sums, then each interface's */
    put_uint(w, "flows_tracked", v->flows_tracked);
    COUNTERS(w, "memory", {"held", v->memory}, {"limit", v->memory_limit}, {"out_of_order", v->ooo_bytes},
             {"pdu_buffers", v->pdu_bytes});
    if (v->corr)
        COUNTERS(w, "correlation", {"summaries", v->corr->summaries}, {"pruned", v->corr->pruned},
                 {"findings_written", v->corr->findings_written}, {"bytes", v->corr->bytes},
                 {"clock_resets", v->corr->clock_resets}, {"strings_rebuilt", v->corr->strings_rebuilt},
                 {"archive_lost", v->corr->archive_lost});
    if (v->cap) {
        const struct hs_capture_stats *c = v->cap;
        jw_key(w, "capture");
        jw_object_begin(w);
        put_uint(w, "received", c->received);
        put_uint(w, "kernel_drops", c->kernel_drops);
        put_uint(w, "interface_drops", c->interface_drops);
        jw_key(w, "interfaces");
        jw_array_begin(w);
        for (unsigned i = 0; i < c->n; i++) {
            jw_object_begin(w);
            put_str(w, "name", c->ifs[i].name ? c->ifs[i].name : "");
            put_uint(w, "received", c->ifs[i].received);
            put_uint(w, "kernel_drops", c->ifs[i].kernel_drops);
            put_uint(w, "interface_drops", c->ifs[i].interface_drops);
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
    }
    if (v->workers) { /* --threads N: what each worker holds and what its caps did (the sums are above) */
        jw_key(w, "workers");
        jw_array_begin(w);
        for (unsigned i = 0; i < v->n_workers; i++) {
            const struct hs_worker_stats *x = &v->workers[i];
            const struct hs_stats *t = x->st;
            jw_object_begin(w);
            put_uint(w, "packets", x->packets);
            put_uint(w, "flows", t->flows);
            put_uint(w, "flows_tracked", x->flows_tracked);
            COUNTERS(w, "memory", {"held", x->memory}, {"out_of_order", x->ooo_bytes}, {"pdu_buffers", x->pdu_bytes});
            COUNTERS(w, "dropped", {"flows_evicted", t->flows_evicted}, {"ooo_bytes", t->ooo_dropped_bytes},
                     {"pdu_oversize", t->pdu_oversize}, {"records", t->records_dropped}, {"uses", t->uses_dropped},
                     {"partial_at_close", t->partial_at_close}, {"flows_evicted_memory", t->memory_evicted});
            COUNTERS(w, "capped", {"records_written_early", t->records_written_early},
                     {"kdc_requests_written_early", t->kdc_written_early},
                     {"closed_flows_forgotten", t->closed_forgotten}, {"ids_unmapped", x->ids_unmapped});
            jw_object_end(w);
        }
        jw_array_end(w);
    }
    if (s->input) { /* hopscope --records */
        jw_key(w, "records_input");
        sensorjson_input(w, s->input);
    }
    jw_object_end(w);
}

/* One `finding`: what went wrong across records, the evidence, the fix. */
static void put_finding(struct jw *w, const struct hs_finding *f)
{
    jw_object_begin(w);
    put_str(w, "type", "finding");
    put_str(w, "id", f->id);
    put_str(w, "severity", f->severity);
    put_str(w, "confidence", f->confidence);
    put_str(w, "title", f->title);
    set_str(w, "user", f->user);
    jw_key(w, "hosts");
    jw_object_begin(w);
    set_str(w, "client", f->client);
    set_str(w, "first_hop", f->first_hop);
    set_str(w, "second_hop", f->second_hop);
    set_str(w, "client_name", f->client_name);
    set_str(w, "first_hop_name", f->first_hop_name);
    set_str(w, "second_hop_name", f->second_hop_name);
    jw_object_end(w);
    jw_key(w, "evidence");
    jw_object_begin(w);
    jw_key(w, "records");
    jw_array_begin(w);
    for (uint32_t i = 0; i < f->nrecords; i++)
        jw_uint(w, f->records[i]);
    jw_array_end(w);
    jw_key(w, "frames");
    jw_array_begin(w);
    for (uint32_t i = 0; i < f->nframes; i++)
        jw_uint(w, f->frames[i]);
    jw_array_end(w);
    if (f->sensors) /* hopscope --records */
        sensorjson_evidence(w, f->sensors);
    jw_object_end(w);
    put_str(w, "explanation", f->explanation);
    put_str(w, "remediation", f->remediation);
    jw_object_end(w);
}

/* A `use` record (streaming): use i of auth record r, handed over at time r->h.at. */
static void put_use_record(struct jw *w, const struct auth_rec *r, uint32_t i)
{
    char ts[32];
    format_ts(&r->h.at, ts);
    jw_object_begin(w);
    put_str(w, "type", "use");
    put_uint(w, "auth", r->h.id);
    put_str(w, "ts", ts);
    put_uint(w, "index", i);
    put_str(w, "community_id", r->h.community_id);
    put_str(w, "transport", auth_transport_name(r->transport));
    switch (r->transport) {
    case TRANSPORT_SMB2:
    case TRANSPORT_SMB1:
        jw_key(w, "tree_connect");
        put_tree_connect(w, &r->uses[i]);
        break;
    case TRANSPORT_HTTP:
        jw_key(w, "request");
        put_request(w, &r->uses[i]);
        break;
    case TRANSPORT_DCERPC:
        jw_key(w, "call");
        put_call(w, &r->uses[i]);
        break;
    default: /* no dissector adds uses to other transports */
        break;
    }
    jw_object_end(w);
}

/* Any record, by its type, whole. */
static void put_record(struct jw *w, const struct rec_hdr *r)
{
    switch (r->type) {
    case REC_AUTH:
        put_auth_record(w, (const struct auth_rec *)r, true);
        break;
    case REC_KERBEROS:
        put_kdc_record(w, (const struct kdc_rec *)r);
        break;
    case REC_DCOM:
        put_dcom_record(w, (const struct dcom_rec *)r);
        break;
    }
}

/* The text in w as one line, handed to stdio in one fwrite; the buffer is kept for the next line. */
static void write_line(struct hs_writer *w)
{
    if (w->sensor && w->jw.len && w->jw.buf[w->jw.len - 1] == '}') { /* --sensor: the line's last member */
        jw_rewind(&w->jw, (struct jw_mark){w->jw.len - 1, true});
        jw_key(&w->jw, "sensor");
        jw_string(&w->jw, w->sensor);
        jw_object_end(&w->jw);
    }
    jw_raw(&w->jw, "\n", 1);
    if (w->jw.failed || fwrite(w->jw.buf, 1, w->jw.len, w->f) != w->jw.len)
        w->failed = true;
    jw_reset(&w->jw);
}

char *stats_json_line(const struct hs_stats_view *v)
{
    struct jw w;
    jw_init(&w, 0);
    put_stats(&w, v);
    return jw_release(&w);
}

/* The jansson tree of the text in w, which is freed: the line read back (expectations are not on the hot path). */
static json_t *read_back(struct jw *w)
{
    json_t *j = w->failed ? NULL : json_loadb(w->buf, w->len, 0, NULL);
    jw_free(w);
    return j;
}

json_t *json_of_record(const struct rec_hdr *r)
{
    struct jw w;
    jw_init(&w, 0);
    put_record(&w, r);
    return read_back(&w);
}

json_t *json_of_finding(const struct hs_finding *f)
{
    struct jw w;
    jw_init(&w, 0);
    put_finding(&w, f);
    return read_back(&w);
}

/* A hand-over (enum rec_phase) as lines: the record whole; an auth record without its uses at its verdict;
 * then a `use` line per use carried. */
static void json_record(struct hs_writer *w, const struct rec_hdr *r)
{
    if (r->type != REC_AUTH || r->phase == REC_WHOLE) {
        put_record(&w->jw, r);
        write_line(w);
        return;
    }
    const struct auth_rec *a = (const struct auth_rec *)r;
    if (r->phase == REC_AT_VERDICT) {
        put_auth_record(&w->jw, a, false);
        write_line(w);
        return;
    }
    for (uint32_t i = r->use_from; i < r->use_to && i < a->nuses && !w->failed; i++)
        if (rec_use_carried(r, &a->uses[i])) {
            put_use_record(&w->jw, a, i);
            write_line(w);
        }
}

static void json_finding(struct hs_writer *w, const struct hs_finding *f)
{
    put_finding(&w->jw, f);
    write_line(w);
}

static void json_stats(struct hs_writer *w, const struct hs_stats_view *v)
{
    put_stats(&w->jw, v);
    write_line(w);
}

const struct hs_writer_ops json_writer_ops = {
    .record = json_record,
    .finding = json_finding,
    .stats = json_stats,
};

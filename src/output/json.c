/* JSON Lines writer: one object per record (field names in docs/RECORDS.md), a `stats` object last. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dcerpc_names.h"
#include "decode.h"
#include "format.h"
#include "krbcrypt.h"
#include "names.h"
#include "ntlmproof.h"
#include "smb1.h"
#include "smb2.h"
#include "spnego.h"
#include "writer.h"
#include "jsonrec.h"

/* Length of the valid UTF-8 sequence (RFC 3629 4) at p with n bytes left, or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 3, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : k;
}

/*
 * json_string() for every string a record carries. jansson refuses bytes that are not UTF-8
 * (json_string() and json_pack's "s" return NULL, and the field, or the whole object, silently
 * vanishes), but names from the wire (HTTP request targets, Kerberos principals) are arbitrary
 * bytes: invalid sequences become U+FFFD instead.
 */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j || !s)
        return j;
    size_t n = strlen(s), o = 0;
    char *t = malloc(3 * n + 1);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len((const uint8_t *)s + i, n - i);
        if (k) {
            memcpy(t + o, s + i, k);
            i += k;
            o += k;
        } else {
            memcpy(t + o, "\xEF\xBF\xBD", 3);
            i++;
            o += 3;
        }
    }
    t[o] = '\0';
    j = json_string(t);
    free(t);
    return j;
}

/* Bit order of a flag word: MS-NLMP and GSS flags number bits from the least significant; Kerberos flag
 * words (RFC 4120 5.2.8 KerberosFlags) from the most significant (bit 0 = 0x80000000). */
enum bit_order { BITS_LSB0, BITS_MSB0 };

/* How an unnamed bit is spelt: its mask as "0x%08x" or "0x%x", or its number as "bit%u". */
enum unnamed_bit { UNNAMED_HEX8, UNNAMED_HEX, UNNAMED_NUMBER };

/*
 * The names of the set bits of v as a JSON array, in bit order. name() gets the bit's mask (BITS_LSB0) or
 * its number (BITS_MSB0) and returns NULL for an unnamed bit, which is spelt as `unnamed` says.
 */
static json_t *bits_json(uint32_t v, enum bit_order order, const char *(*name)(uint32_t key), enum unnamed_bit unnamed)
{
    json_t *a = json_array();
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
                snprintf(buf, sizeof buf, "0x%08" PRIx32, mask);
            else
                snprintf(buf, sizeof buf, "0x%" PRIx32, mask);
            n = buf;
        }
        json_array_append_new(a, jstr(n));
    }
    return a;
}

/* Kerberos flag names by bit number (kerberos.h takes an int). */
static const char *kdc_option_name(uint32_t b) { return krb_kdc_option_name((int)b); }
static const char *ticket_flag_name(uint32_t b) { return krb_ticket_flag_name((int)b); }
static const char *ap_option_name(uint32_t b) { return krb_ap_option_name((int)b); }
static const char *pac_option_name(uint32_t b) { return krb_pac_option_name((int)b); }

/* {"name": "STATUS_LOGON_FAILURE", "code": "0xc000006d"}, or {"name": "Unauthorized", "code": 401} for HTTP and
 * {"name": "invalidCredentials", "code": 49} for LDAP, whose codes are decimal in their RFCs */
static json_t *status_json(struct hs_status st)
{
    const char *n = hs_status_name(st);
    if (st.space == STATUS_HTTP || st.space == STATUS_LDAP)
        return json_pack("{s:s, s:i}", "name", n ? n : "", "code", (json_int_t)st.code);
    char hex[16];
    snprintf(hex, sizeof hex, "0x%08" PRIx32, st.code);
    return json_pack("{s:s, s:s}", "name", n ? n : hex, "code", hex);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && v[0])
        json_object_set_new(o, k, jstr(v));
}

static void set_frame(json_t *o, const char *k, uint64_t f)
{
    if (f)
        json_object_set_new(o, k, json_integer((json_int_t)f));
}

static void version_str(const struct ntlm_version_info *v, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u", v->major, v->minor, v->build);
}

static json_t *tri_json(int8_t v)
{
    return v == NTLM_UNCHECKED ? json_null() : json_boolean(v == NTLM_TRUE);
}

static json_t *sigcheck_json(const struct ntlm_sigcheck *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "frame", json_integer((json_int_t)s->frame));
    json_object_set_new(o, "over", jstr(s->over));
    json_object_set_new(o, "matched", jstr(s->matched ? s->matched : "none"));
    if (s->matched)
        json_object_set_new(o, "seqnum", json_integer(s->seqnum));
    return o;
}

/* With --creds: what the credentials proved. Never a byte of a key, hash or response. */
static json_t *proof_json(const struct ntlm_proof *pf)
{
    json_t *o = json_object();
    json_object_set_new(o, "account_found", json_boolean(pf->account));
    if (!pf->account)
        return o;
    json_object_set_new(o, "nt_response_verified", tri_json(pf->nt_verified));
    json_object_set_new(o, "lm_response_verified", tri_json(pf->lm_verified));
    if (pf->lm_hash_used)
        json_object_set_new(o, "lm_response_from", jstr(pf->lm_hash_used));
    json_object_set_new(o, "client_has_lm_hash", json_boolean(pf->have_lm_hash));
    json_object_set_new(o, "dc_has_lm_hash", json_boolean(pf->lm_stored));
    if (pf->mic_verified != NTLM_UNCHECKED)
        json_object_set_new(o, "mic_verified", json_boolean(pf->mic_verified == NTLM_TRUE));
    json_t *ks = json_array();
    for (int i = 0; i < pf->nkeys; i++)
        json_array_append_new(ks, jstr(pf->keys[i].name));
    json_object_set_new(o, "keys", ks);
    return o;
}

/* The first signed messages checked against the keys; for SMB1, also whether the server signed at all. */
static json_t *signing_json(const struct auth_rec *r, const struct ntlm_proof *pf)
{
    const struct smb1_sig_seen *srv = NULL;
    if (r->transport == TRANSPORT_SMB1)
        for (int i = 0; i < r->smb1.n_sigs && !srv; i++)
            if (r->smb1.sigs[i].from_server)
                srv = &r->smb1.sigs[i];
    if (!pf->client_sig.frame && !pf->server_sig.frame && !srv)
        return NULL;
    json_t *o = json_object();
    if (srv && srv->kind != SMB1_SIG_MAC) {
        /* e.g. "BSRSPYL ": the server did not sign with any key */
        json_object_set_new(o, "server_signed", json_false());
        json_object_set_new(o, "server_frame", json_integer((json_int_t)srv->frame));
    } else if (srv) {
        json_object_set_new(o, "server_signed", json_true());
    }
    if (!pf->client_sig.frame && !pf->server_sig.frame)
        return o;
    if (pf->client_sig.frame)
        json_object_set_new(o, "client", sigcheck_json(&pf->client_sig));
    if (pf->server_sig.frame)
        json_object_set_new(o, "server", sigcheck_json(&pf->server_sig));
    const struct ntlm_sigcheck *first = pf->client_sig.frame ? &pf->client_sig : &pf->server_sig;
    json_object_set_new(o, "matched", jstr(first->matched ? first->matched : "none"));
    json_object_set_new(o, "frame", json_integer((json_int_t)first->frame));
    return o;
}

static json_t *ntlm_json(const struct gss_ntlm *g)
{
    json_t *o = json_object();
    const struct ntlm_msg *a = g->auth;
    json_object_set_new(o, "response_type", jstr(a ? ntlm_version_name(a->ntlm_version) : "unknown"));
    if (a) {
        json_object_set_new(o, "user", jstr(a->user));
        json_object_set_new(o, "domain", jstr(a->domain));
        json_object_set_new(o, "workstation", jstr(a->workstation));
    }
    uint32_t flags = g->flags[2] ? g->flags[2] : g->flags[1] ? g->flags[1] : g->flags[0];
    json_object_set_new(o, "flags", bits_json(flags, BITS_LSB0, ntlmssp_flag_name, UNNAMED_HEX8));
    json_t *fx = json_object();
    static const char *const which[3] = {"negotiate", "challenge", "authenticate"};
    for (int i = 0; i < 3; i++) {
        if (!g->flags[i])
            continue;
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08" PRIx32, g->flags[i]);
        json_object_set_new(fx, which[i], jstr(hex));
    }
    json_object_set_new(o, "flags_hex", fx);
    if (a) {
        const char *resp[2];
        int nr = ntlm_responses(a->ntlm_version, a->lm_kind, resp);
        json_t *ra = json_array();
        for (int i = 0; i < nr; i++)
            json_array_append_new(ra, jstr(resp[i]));
        json_object_set_new(o, "responses", ra);
        const char *ks = ntlm_key_source(a->ntlm_version, g->flags[2]);
        if (ks)
            json_object_set_new(o, "key_source", jstr(ks));
        json_object_set_new(o, "lm_response", jstr(ntlm_lm_kind_name(a->lm_kind)));
        json_object_set_new(o, "lm_response_len", json_integer(a->lm_len));
        json_object_set_new(o, "nt_response_len", json_integer(a->nt_len));
        json_object_set_new(o, "session_key", json_boolean(a->session_key_len > 0));
        if (a->ntlm_version == NTLM_VER_NTLMV2) {
            json_t *af = json_array();
            static const char *const avf[3] = {"ACCOUNT_CONSTRAINED", "MIC_PRESENT", "SPN_UNTRUSTED"};
            for (int i = 0; i < 3; i++)
                if (a->av_flags & (1u << i))
                    json_array_append_new(af, jstr(avf[i]));
            json_object_set_new(o, "av_flags", af);
            json_object_set_new(o, "mic", json_boolean(a->mic_present));
            set_str(o, "spn", a->spn);
            json_object_set_new(o, "channel_bindings", json_boolean(a->channel_bindings));
        }
        if (a->truncated)
            json_object_set_new(o, "truncated", json_true());
    }
    char v[32];
    if (g->client_version.present) {
        version_str(&g->client_version, v, sizeof v);
        json_object_set_new(o, "client_version", jstr(v));
    }
    if (g->proof && g->proof->done)
        json_object_set_new(o, "verification", proof_json(g->proof));
    set_str(o, "negotiate_domain", g->neg_domain);
    set_str(o, "negotiate_workstation", g->neg_workstation);
    if (g->chal) {
        /* The ServerChallenge is not written: with a captured response it is what an offline cracker needs
         * (README, Secrets). */
        json_object_set_new(o, "challenge_timestamp", json_boolean(g->chal->has_timestamp));
        set_str(o, "target_name", g->chal->target_name);
        if (g->chal->version.present) {
            version_str(&g->chal->version, v, sizeof v);
            json_object_set_new(o, "server_version", jstr(v));
        }
    }
    return o;
}

static json_t *endpoint_json(uint8_t af, const struct hs_endpoint *ep)
{
    char ip[INET6_ADDRSTRLEN];
    format_ip(af, ep->ip, ip);
    return json_pack("{s:s, s:i}", "ip", ip, "port", (json_int_t)ep->port);
}

static json_t *server_names(const struct ntlm_msg *c)
{
    if (!c)
        return NULL;
    json_t *o = json_object();
    set_str(o, "nb_computer", c->nb_computer);
    set_str(o, "nb_domain", c->nb_domain);
    set_str(o, "dns_computer", c->dns_computer);
    set_str(o, "dns_domain", c->dns_domain);
    set_str(o, "dns_tree", c->dns_tree);
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *smb2_json(const struct auth_rec *r)
{
    json_t *o = json_object();
    const char *d = smb2_dialect_name(r->smb2.dialect);
    if (d)
        json_object_set_new(o, "dialect", jstr(d));
    char sid[24];
    snprintf(sid, sizeof sid, "0x%016" PRIx64, r->smb2.session_id);
    json_object_set_new(o, "session_id", jstr(sid));
    if (r->smb2.session_flags_seen) {
        json_t *f = json_array();
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_IS_GUEST)
            json_array_append_new(f, jstr("IS_GUEST"));
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_IS_NULL)
            json_array_append_new(f, jstr("IS_NULL"));
        if (r->smb2.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA)
            json_array_append_new(f, jstr("ENCRYPT_DATA"));
        json_object_set_new(o, "session_flags", f);
    }
    json_t *tc = json_array();
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct auth_use *u = &r->uses[i];
        json_array_append_new(tc, json_pack("{s:s, s:o, s:[I,I]}", "share", u->name, "status", status_json(u->status),
                                            "frames", (json_int_t)u->frame_req, (json_int_t)u->frame_resp));
    }
    json_object_set_new(o, "tree_connects", tc);
    if (r->uses_dropped)
        json_object_set_new(o, "tree_connects_dropped", json_integer(r->uses_dropped));
    return o;
}

/* The uses of an SMB session: its tree connects, in order. */
static json_t *tree_connects_json(const struct auth_rec *r)
{
    json_t *tc = json_array();
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct auth_use *u = &r->uses[i];
        json_t *o = json_pack("{s:o, s:o, s:[I,I]}", "share", jstr(u->name), "status", status_json(u->status), "frames",
                              (json_int_t)u->frame_req, (json_int_t)u->frame_resp);
        set_str(o, "service", u->service);
        json_array_append_new(tc, o);
    }
    return tc;
}

/* SecuritySignature of the messages from the successful SESSION_SETUP_ANDX response on (MS-CIFS 3.1.5.1). */
static json_t *smb1_signing_json(const struct auth_smb1 *a)
{
    static const char *const kind[] = {"zero", "placeholder", "mac"};
    json_t *o = json_object();
    if (a->negotiate_seen) {
        json_object_set_new(o, "server_enabled", json_boolean(a->security_mode & NEGOTIATE_SECURITY_SIGNATURES_ENABLED));
        json_object_set_new(o, "server_required", json_boolean(a->security_mode & NEGOTIATE_SECURITY_SIGNATURES_REQUIRED));
    }
    json_object_set_new(o, "client_enabled", json_boolean(a->client_signing));
    json_object_set_new(o, "client_required", json_boolean(a->client_signing_required));
    if (!a->n_sigs)
        return o;
    json_object_set_new(o, "signed_after", json_boolean(a->signed_after));
    set_frame(o, "first_signed_frame", a->first_signed_frame);
    if (a->first_signed_resp_frame)
        json_object_set_new(o, "first_signed_response",
                            json_pack("{s:I, s:o}", "frame", (json_int_t)a->first_signed_resp_frame, "status",
                                      status_json(a->first_signed_resp_status)));
    json_t *sigs = json_array();
    for (uint8_t i = 0; i < a->n_sigs && i < SMB1_SIG_WATCH; i++) {
        const struct smb1_sig_seen *e = &a->sigs[i];
        const char *cmd = smb1_command_name(e->command);
        char hex[8];
        snprintf(hex, sizeof hex, "0x%02x", e->command);
        json_t *x = json_pack("{s:I, s:s, s:s, s:s}", "frame", (json_int_t)e->frame, "from",
                              e->from_server ? "server" : "client", "command", cmd ? cmd : hex, "signature",
                              kind[e->kind <= SMB1_SIG_MAC ? e->kind : 0]);
        if (e->status.space != STATUS_NONE)
            json_object_set_new(x, "status", status_json(e->status));
        json_array_append_new(sigs, x);
    }
    json_object_set_new(o, "signatures", sigs);
    return o;
}

static json_t *smb1_json(const struct auth_rec *r)
{
    const struct auth_smb1 *a = &r->smb1;
    json_t *o = json_object();
    set_str(o, "dialect", a->dialect);
    if (a->n_dialects) {
        json_t *d = json_array();
        for (uint8_t i = 0; i < a->n_dialects && i < SMB1_DIALECTS_MAX; i++)
            json_array_append_new(d, jstr(a->dialects_offered[i]));
        json_object_set_new(o, "dialects_offered", d);
    }
    json_object_set_new(o, "uid", json_integer(a->uid));
    json_object_set_new(o, "extended_security", json_boolean(a->extended_security));
    if (a->negotiate_seen) {
        json_object_set_new(o, "security_mode", bits_json(a->security_mode, BITS_LSB0, smb1_security_mode_name, UNNAMED_HEX));
        json_object_set_new(o, "capabilities", bits_json(a->capabilities, BITS_LSB0, smb1_capability_name, UNNAMED_HEX8));
    }
    if (a->action_seen)
        json_object_set_new(o, "action", bits_json(a->action, BITS_LSB0, smb1_action_name, UNNAMED_HEX));
    json_object_set_new(o, "plaintext_password", json_boolean(a->plaintext_password));
    set_str(o, "client_native_os", a->client_native_os);
    set_str(o, "client_native_lanman", a->client_native_lanman);
    set_str(o, "server_native_os", a->server_native_os);
    set_str(o, "server_native_lanman", a->server_native_lanman);
    json_object_set_new(o, "signing", smb1_signing_json(a));
    json_object_set_new(o, "tree_connects", tree_connects_json(r));
    if (r->uses_dropped)
        json_object_set_new(o, "tree_connects_dropped", json_integer(r->uses_dropped));
    return o;
}

static json_t *http_json(const struct auth_rec *r)
{
    json_t *o = json_object();
    set_str(o, "scheme", r->http.scheme);
    json_t *rq = json_array();
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct auth_use *u = &r->uses[i];
        json_array_append_new(rq, json_pack("{s:o, s:o, s:i, s:[I,I]}", "method", jstr(u->method), "path", jstr(u->name),
                                            "status", (json_int_t)u->status.code, "frames", (json_int_t)u->frame_req,
                                            (json_int_t)u->frame_resp));
    }
    json_object_set_new(o, "requests", rq);
    if (r->uses_dropped)
        json_object_set_new(o, "requests_dropped", json_integer(r->uses_dropped));
    return o;
}

static const struct tok verdict_sources[] = {
    {VERDICT_SESSION_SETUP, "session_setup"}, {VERDICT_HTTP_STATUS, "http_status"}, {VERDICT_BIND_ACK, "bind_ack"},
    {VERDICT_BIND_NAK, "bind_nak"}, {VERDICT_FIRST_CALL, "first_call"}, {VERDICT_LDAP_BIND, "ldap_bind"}, {0, NULL},
};

/* The `dcerpc` object: the security context, the interface it was bound for, and the calls made with it. */
static json_t *dcerpc_json(const struct auth_rec *r)
{
    const struct auth_dcerpc *d = &r->dcerpc;
    json_t *o = json_object();
    if (d->have_iface) {
        char uuid[37], ver[16];
        dcerpc_uuid_str(d->iface_uuid, d->iface_le, uuid);
        snprintf(ver, sizeof ver, "%u.%u", d->iface_vmaj, d->iface_vmin);
        if (d->iface_name)
            json_object_set_new(o, "interface", jstr(d->iface_name));
        json_object_set_new(o, "interface_uuid", jstr(uuid));
        json_object_set_new(o, "interface_version", jstr(ver));
    }
    const char *at = dcerpc_auth_type_name(d->auth_type), *al = dcerpc_auth_level_name(d->auth_level);
    json_object_set_new(o, "auth_type", at ? jstr(at) : json_integer(d->auth_type));
    json_object_set_new(o, "auth_level", al ? jstr(al) : json_integer(d->auth_level));
    json_object_set_new(o, "auth_context_id", json_integer(r->context_id));
    set_str(o, "pipe", d->pipe);
    if (r->carrier)
        json_object_set_new(o, "carrier", json_integer((json_int_t)r->carrier));
    set_str(o, "netlogon_domain", d->netlogon_domain);
    set_str(o, "netlogon_computer", d->netlogon_computer);
    json_object_set_new(o, "three_leg", json_boolean(d->auth3));
    if (d->auth_level >= 6)
        json_object_set_new(o, "stubs_sealed", json_true());
    if (d->dcom_activation) {
        json_t *dc = json_pack("{s:I}", "activation", (json_int_t)d->dcom_activation);
        if (d->dcom_have_clsid) {
            char u[37];
            dcerpc_uuid_str(d->dcom_clsid, 1, u);
            json_object_set_new(dc, "clsid", jstr(u));
        }
        set_str(dc, "class", d->dcom_class);
        json_object_set_new(o, "dcom", dc);
    }
    const char *vs = tok_name(verdict_sources, r->verdict_source);
    if (vs)
        json_object_set_new(o, "verdict_from", jstr(vs));
    json_t *calls = json_array();
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct auth_use *u = &r->uses[i];
        json_t *c = json_object();
        if (u->iface)
            json_object_set_new(c, "interface", jstr(u->iface));
        json_object_set_new(c, "op", jstr(u->name));
        json_object_set_new(c, "opnum", json_integer(u->opnum));
        if (u->detail_kind)
            json_object_set_new(c, u->detail_kind, jstr(u->detail));
        if (u->answered)
            json_object_set_new(c, "result", jstr(u->status.space == STATUS_NCA ? "fault" : "response"));
        if (u->status.space != STATUS_NONE)
            json_object_set_new(c, "status", status_json(u->status));
        json_object_set_new(c, "frames", json_pack("[I,I]", (json_int_t)u->frame_req, (json_int_t)u->frame_resp));
        json_array_append_new(calls, c);
    }
    json_object_set_new(o, "calls", calls);
    if (r->uses_dropped)
        json_object_set_new(o, "calls_dropped", json_integer(r->uses_dropped));
    return o;
}

static const char *const ldap_auth_names[] = {NULL, "simple", "sasl", "sicily", "other"};
static const char *const ldap_simple_names[] = {NULL, "anonymous", "unauthenticated", "password"};

/* The `ldap` object: the bind (never the simple bind's password), its result, and each BindRequest/BindResponse. */
static json_t *ldap_json(const struct auth_rec *r)
{
    const struct auth_ldap *l = &r->ldap;
    json_t *o = json_object();
    if (l->version) { /* a BindRequest was seen */
        json_object_set_new(o, "version", json_integer(l->version));
        json_object_set_new(o, "bind_dn", jstr(l->bind_dn));
    }
    if (l->auth != LDAP_AUTH_UNKNOWN && l->auth < sizeof ldap_auth_names / sizeof *ldap_auth_names)
        json_object_set_new(o, "auth", jstr(ldap_auth_names[l->auth]));
    if (l->auth == LDAP_AUTH_SIMPLE && l->simple && l->simple < sizeof ldap_simple_names / sizeof *ldap_simple_names) {
        json_object_set_new(o, "simple_anonymous", json_boolean(l->simple != LDAP_SIMPLE_PASSWORD));
        json_object_set_new(o, "simple_method", jstr(ldap_simple_names[l->simple]));
    }
    set_str(o, "sasl_mechanism", l->sasl_mechanism);
    set_str(o, "sicily_packages", l->sicily_packages);
    if (l->has_result)
        json_object_set_new(o, "result_code", status_json(hs_status_of(STATUS_LDAP, l->result_code)));
    set_str(o, "matched_dn", l->matched_dn);
    set_str(o, "diagnostic_message", l->diagnostic);
    if (l->has_ad_error) {
        char hex[16];
        const char *meaning;
        const char *n = ldap_ad_error_name(l->ad_error, &meaning);
        snprintf(hex, sizeof hex, "%" PRIx32, l->ad_error);
        json_t *ad = json_pack("{s:s}", "code", hex);
        set_str(ad, "name", n);
        set_str(ad, "meaning", meaning);
        json_object_set_new(o, "ad_error", ad);
    }
    json_t *b = json_array();
    for (uint32_t i = 0; i < l->nbinds && i < LDAP_BINDS_MAX; i++) {
        const struct ldap_bind_leg *g = &l->binds[i];
        json_t *e = json_pack("{s:I}", "message_id", (json_int_t)g->message_id);
        set_frame(e, "request", g->frame_req);
        set_frame(e, "response", g->frame_resp);
        if (g->answered)
            json_object_set_new(e, "result_code", status_json(hs_status_of(STATUS_LDAP, g->result_code)));
        json_array_append_new(b, e);
    }
    json_object_set_new(o, "binds", b);
    if (l->binds_dropped)
        json_object_set_new(o, "binds_dropped", json_integer(l->binds_dropped));
    return o;
}

static json_t *spnego_json(const struct gss_spnego *s)
{
    if (!s->mech_types && s->neg_state == NEG_STATE_ABSENT)
        return NULL;
    json_t *o = json_object();
    json_t *m = json_array();
    for (int i = 0; i < 8; i++)
        if (s->mech_types & (1u << i))
            json_array_append_new(m, jstr(gss_mech_name((enum gss_mech)(1u << i))));
    json_object_set_new(o, "mech_types", m);
    const char *ns = spnego_neg_state_name(s->neg_state);
    if (ns)
        json_object_set_new(o, "neg_state", jstr(ns));
    json_object_set_new(o, "mech_list_mic", json_boolean(s->mech_list_mic));
    return o;
}

static json_t *etype_json(int32_t et)
{
    const char *n = krb_etype_name(et);
    if (n)
        return jstr(n);
    char buf[16];
    snprintf(buf, sizeof buf, "%d", et);
    return jstr(buf);
}

/* A list of enctypes, by name where known. */
static json_t *etypes_json(const int32_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, etype_json(v[i]));
    return a;
}

/* A list of PA-DATA types, by name where known, else as a number. */
static json_t *padata_json(const int32_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const char *name = krb_padata_name(v[i]);
        char buf[16];
        snprintf(buf, sizeof buf, "%d", v[i]);
        json_array_append_new(a, jstr(name ? name : buf));
    }
    return a;
}

static json_t *ticket_ref_json(const struct kdc_ticket_ref *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "digest", jstr(t->digest));
    set_str(o, "sname", t->sname);
    set_str(o, "client", t->client);
    set_frame(o, "issued_frame", t->issued_frame);
    return o;
}

static json_t *krb_error_json(int32_t code, const char *e_text, bool has_nt, uint32_t nt)
{
    const char *n = krb_error_name(code);
    json_t *o = json_pack("{s:i, s:s}", "code", (json_int_t)code, "name", n ? n : "");
    set_str(o, "e_text", e_text);
    if (has_nt)
        json_object_set_new(o, "ntstatus", status_json(hs_status_of(STATUS_NTSTATUS, nt)));
    return o;
}

static void set_time(json_t *o, const char *k, const char *t)
{
    char out[24];
    if (t[0])
        json_object_set_new(o, k, jstr(format_krb_time(t, out) ? out : t));
}

/* What decrypting a ticket revealed (never key material), or why it could not be decrypted. */
static json_t *dec_ticket_json(const struct kdc_decrypted *d)
{
    json_t *o = json_object();
    if (!d->t.decrypted) {
        json_object_set_new(o, "decrypted", json_false());
        set_str(o, "why", d->why);
        return o;
    }
    const struct kc_ticket *t = &d->t;
    char client[2 * KC_NAME_MAX + 2];
    json_object_set_new(o, "decrypted", json_true());
    json_object_set_new(o, "key", json_pack("{s:o, s:i}", "principal", jstr(t->key_principal), "kvno", (json_int_t)t->key_kvno));
    kdc_principal_join(client, sizeof client, t->cname, t->crealm);
    json_object_set_new(o, "client", jstr(client));
    json_object_set_new(o, "flags", bits_json(t->flags, BITS_MSB0, ticket_flag_name, UNNAMED_NUMBER));
    if (t->session_key.present)
        json_object_set_new(o, "session_key_etype", etype_json(t->session_key.enctype));
    set_time(o, "authtime", t->authtime);
    set_time(o, "starttime", t->starttime);
    set_time(o, "endtime", t->endtime);
    set_time(o, "renew_till", t->renew_till);
    set_str(o, "transited", t->transited);
    if (t->has_pac) {
        json_t *pac = json_object();
        set_str(pac, "user", t->pac_user);
        set_str(pac, "domain", t->pac_domain);
        set_str(pac, "upn", t->pac_upn);
        set_str(pac, "dns_domain", t->pac_dns_domain);
        set_str(pac, "user_sid", t->user_sid);
        json_t *g = json_array();
        for (int i = 0; i < t->n_group_sids; i++)
            json_array_append_new(g, jstr(t->group_sids[i]));
        json_object_set_new(pac, "group_sids", g);
        json_object_set_new(o, "pac", pac);
    }
    return o;
}

/* What decrypting an authenticator revealed: the GSS flags (DELEG!) and any delegated TGT. */
static json_t *dec_auth_json(const struct kdc_decrypted_auth *d)
{
    json_t *o = json_object();
    const struct kc_authenticator *a = &d->a;
    if (!a->decrypted) {
        json_object_set_new(o, "decrypted", json_false());
        set_str(o, "why", d->why);
        return o;
    }
    char client[2 * KC_NAME_MAX + 2];
    json_object_set_new(o, "decrypted", json_true());
    kdc_principal_join(client, sizeof client, a->cname, a->crealm);
    json_object_set_new(o, "client", jstr(client));
    set_time(o, "ctime", a->ctime);
    if (a->has_seq)
        json_object_set_new(o, "seq", json_integer(a->seq));
    if (a->subkey.present)
        json_object_set_new(o, "subkey_etype", etype_json(a->subkey.enctype));
    if (a->cksum_type) {
        char ct[16];
        snprintf(ct, sizeof ct, "0x%04x", (unsigned)a->cksum_type);
        json_object_set_new(o, "cksum_type", jstr(ct));
    }
    if (a->has_gss_flags)
        json_object_set_new(o, "gss_flags", bits_json(a->gss_flags, BITS_LSB0, kc_gss_flag_name, UNNAMED_HEX));
    if (a->has_deleg) {
        json_t *dl = json_object();
        json_object_set_new(dl, "decrypted", json_boolean(a->deleg_decrypted));
        set_str(dl, "principal", a->deleg_principal);
        set_str(dl, "sname", a->deleg_sname);
        if (a->deleg_decrypted)
            json_object_set_new(dl, "flags", bits_json(a->deleg_flags, BITS_MSB0, ticket_flag_name, UNNAMED_NUMBER));
        json_object_set_new(o, "delegated", dl);
    }
    return o;
}

static json_t *auth_krb_json(const struct gss_krb *k)
{
    json_t *o = json_pack("{s:b, s:b, s:b}", "ap_req", k->ap_req, "ap_rep", k->ap_rep, "krb_error", k->error);
    if (k->ap_req && k->ticket.digest[0]) {
        set_str(o, "client", k->ticket.client);
        set_str(o, "spn", k->spn);
        set_str(o, "realm", k->realm);
        json_object_set_new(o, "etype", etype_json(k->etype));
        if (k->has_kvno)
            json_object_set_new(o, "kvno", json_integer(k->kvno));
        json_object_set_new(o, "ap_options", bits_json(k->ap_options, BITS_MSB0, ap_option_name, UNNAMED_NUMBER));
        json_object_set_new(o, "authenticator_etype", etype_json(k->auth_etype));
        json_object_set_new(o, "ticket", ticket_ref_json(&k->ticket));
    }
    if (k->dec_ticket || k->dec_auth) {
        json_t *d = json_object();
        if (k->dec_ticket)
            json_object_set_new(d, "ticket", dec_ticket_json(k->dec_ticket));
        if (k->dec_auth)
            json_object_set_new(d, "authenticator", dec_auth_json(k->dec_auth));
        json_object_set_new(o, "decrypted", d);
    }
    if (k->error)
        json_object_set_new(o, "error", krb_error_json(k->error_code, k->e_text, false, 0));
    return o;
}

/* "type", "id", "ts", in that order, opening every record. */
static json_t *record_head(const char *type, const struct rec_hdr *h)
{
    char ts[32];
    format_ts(&h->ts, ts);
    json_t *o = json_object();
    json_object_set_new(o, "type", jstr(type));
    json_object_set_new(o, "id", json_integer((json_int_t)h->id));
    json_object_set_new(o, "ts", jstr(ts));
    return o;
}

/* One `auth` record. */
static json_t *auth_json(const struct auth_rec *r)
{
    json_t *o = record_head("auth", &r->h);
    json_t *fr = json_object();
    set_frame(fr, "negotiate", r->frames.negotiate);
    set_frame(fr, "challenge", r->frames.challenge);
    set_frame(fr, "authenticate", r->frames.authenticate);
    set_frame(fr, "ap_req", r->frames.ap_req);
    set_frame(fr, "ap_rep", r->frames.ap_rep);
    set_frame(fr, "verdict", r->frames.verdict);
    json_object_set_new(o, "frames", fr);
    json_object_set_new(o, "community_id", jstr(r->h.community_id));
    json_object_set_new(o, "client", endpoint_json(r->h.flow.af, &r->h.flow.cli));
    json_t *srv = endpoint_json(r->h.flow.af, &r->h.flow.srv);
    json_t *names = server_names(r->gss.ntlm.chal);
    if (names)
        json_object_set_new(srv, "names", names);
    json_object_set_new(o, "server", srv);
    json_object_set_new(o, "transport", jstr(auth_transport_name(r->transport)));
    json_object_set_new(o, "service", jstr(auth_service_name(r)));
    json_object_set_new(o, "mechanism", jstr(auth_mech_name(r->gss.mech)));
    {
        /* who, in one place for jq (`.user`), and where the name comes from */
        char who[2 * NTLM_NAME_MAX + 2];
        const char *from = auth_user(r, who, sizeof who);
        if (from) {
            json_object_set_new(o, "user", jstr(who));
            json_object_set_new(o, "user_from", jstr(from));
        }
    }
    if (r->gss.ntlm.seen) {
        json_t *nj = ntlm_json(&r->gss.ntlm);
        json_t *sg = r->gss.ntlm.proof && r->gss.ntlm.proof->done ? signing_json(r, r->gss.ntlm.proof) : NULL;
        if (sg)
            json_object_set_new(nj, "signing", sg);
        json_object_set_new(o, "ntlm", nj);
    }
    json_t *sp = spnego_json(&r->gss.spnego);
    if (sp)
        json_object_set_new(o, "spnego", sp);
    if (r->gss.krb.ap_req || r->gss.krb.ap_rep || r->gss.krb.error)
        json_object_set_new(o, "kerberos", auth_krb_json(&r->gss.krb));
    if (r->gss.mech == AMECH_BASIC)
        json_object_set_new(o, "basic", json_pack("{s:s}", "user", r->gss.basic_user));
    switch (r->transport) {
    case TRANSPORT_SMB2:
        json_object_set_new(o, "smb2", smb2_json(r));
        break;
    case TRANSPORT_HTTP:
        json_object_set_new(o, "http", http_json(r));
        break;
    case TRANSPORT_LDAP:
        json_object_set_new(o, "ldap", ldap_json(r));
        break;
    case TRANSPORT_SMB1:
        json_object_set_new(o, "smb1", smb1_json(r));
        break;
    case TRANSPORT_DCERPC:
        json_object_set_new(o, "dcerpc", dcerpc_json(r));
        break;
    case TRANSPORT_OTHER: /* nothing but the tokens is known of the protocol around them */
        break;
    }
    json_object_set_new(o, "result", jstr(auth_result_name(r->result)));
    if (r->status.space != STATUS_NONE)
        json_object_set_new(o, "status", status_json(r->status));
    return o;
}

/* One `kerberos` record: a KDC exchange. */
static json_t *kdc_json(const struct kdc_rec *r)
{
    json_t *o = record_head("kerberos", &r->h);
    json_t *fr = json_object();
    set_frame(fr, "request", r->frame_req);
    set_frame(fr, "reply", r->frame_rep);
    json_object_set_new(o, "frames", fr);
    json_object_set_new(o, "community_id", jstr(r->h.community_id));
    json_object_set_new(o, "client", endpoint_json(r->h.flow.af, &r->h.flow.cli));
    json_object_set_new(o, "server", endpoint_json(r->h.flow.af, &r->h.flow.srv));
    json_object_set_new(o, "transport", jstr(r->udp ? "udp" : "tcp"));
    json_object_set_new(o, "kind", jstr(kdc_kind_name(r->kind)));
    if (r->req_type)
        json_object_set_new(o, "request", jstr(krb_msg_type_name(r->req_type)));
    if (r->rep_type)
        json_object_set_new(o, "reply", jstr(krb_msg_type_name(r->rep_type)));
    char client[2 * KRB_NAME_MAX + 2];
    const char *cfrom = kdc_rec_client(r, client, sizeof client);
    if (cfrom) {
        json_object_set_new(o, "cname", jstr(client));
        json_object_set_new(o, "cname_from", jstr(cfrom));
        char uf[32];
        snprintf(uf, sizeof uf, "kerberos_%s", cfrom);
        json_object_set_new(o, "user", jstr(client));
        json_object_set_new(o, "user_from", jstr(uf));
        /* the cname as the request or error named it: its name-type tells an NT-ENTERPRISE "user@dns.domain"
         * from an ordinary name@REALM */
        if (r->has_cname_type && (!strcmp(cfrom, "request") || !strcmp(cfrom, "error"))) {
            const char *nt = krb_name_type_name(r->cname_type);
            json_object_set_new(o, "cname_type", nt ? jstr(nt) : json_integer(r->cname_type));
        }
    }
    char sname[2 * KRB_NAME_MAX + 2];
    kdc_principal_join(sname, sizeof sname, r->sname, r->realm);
    set_str(o, "sname", sname);
    set_str(o, "realm", r->realm);
    if (r->req_type) {
        json_object_set_new(o, "kdc_options", bits_json(r->kdc_options, BITS_MSB0, kdc_option_name, UNNAMED_NUMBER));
        json_object_set_new(o, "etypes", etypes_json(r->etypes, r->n_etypes));
        json_object_set_new(o, "padata", padata_json(r->padata, r->n_padata));
        set_time(o, "till", r->till);
        json_object_set_new(o, "nonce", json_integer(r->nonce));
        if (r->n_addresses) {
            json_t *ad = json_array();
            for (int i = 0; i < r->n_addresses; i++)
                json_array_append_new(ad, json_string(r->addresses[i]));
            json_object_set_new(o, "addresses", ad);
        }
        if (r->include_pac >= 0)
            json_object_set_new(o, "include_pac", json_boolean(r->include_pac));
        if (r->has_pac_options)
            json_object_set_new(o, "pac_options", bits_json(r->pac_options, BITS_MSB0, pac_option_name, UNNAMED_NUMBER));
        if (r->kind == KDC_KIND_S4U2PROXY)
            json_object_set_new(o, "rbcd_requested",
                                json_boolean(r->has_pac_options && (r->pac_options & (0x80000000u >> 3))));
    }
    if (r->for_user_via) {
        char u[2 * KRB_NAME_MAX + 2];
        kdc_principal_join(u, sizeof u, r->for_user, r->for_user_realm);
        json_object_set_new(o, "impersonated", json_pack("{s:o, s:s}", "user", jstr(u), "via", krb_padata_name(r->for_user_via)));
    } else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl && r->addl[0].client[0]) {
        /* The evidence ticket is the one the user presented to the service: its holder is on whose behalf. */
        json_object_set_new(o, "impersonated", json_pack("{s:o, s:s}", "user", jstr(r->addl[0].client), "via",
                                                         "evidence-ticket"));
    }
    json_t *tk = json_object();
    if (r->has_tgt)
        json_object_set_new(tk, "tgt", ticket_ref_json(&r->tgt));
    if (r->n_addl) {
        json_t *a = json_array();
        for (int i = 0; i < r->n_addl; i++)
            json_array_append_new(a, ticket_ref_json(&r->addl[i]));
        json_object_set_new(tk, "additional", a);
    }
    if (r->has_ticket) {
        json_t *t = ticket_ref_json(&r->ticket);
        json_object_set_new(t, "etype", etype_json(r->ticket_etype));
        if (r->ticket_has_kvno)
            json_object_set_new(t, "kvno", json_integer(r->ticket_kvno));
        json_object_set_new(tk, "reply", t);
    }
    if (json_object_size(tk))
        json_object_set_new(o, "tickets", tk);
    else
        json_decref(tk);
    if (r->rep_type == KRB_AS_REP || r->rep_type == KRB_TGS_REP)
        json_object_set_new(o, "enc_part_etype", etype_json(r->enc_part_etype));
    json_t *dec = json_object();
    if (r->dec_tgt)
        json_object_set_new(dec, "tgt", dec_ticket_json(r->dec_tgt));
    if (r->dec_tgs_auth)
        json_object_set_new(dec, "tgs_authenticator", dec_auth_json(r->dec_tgs_auth));
    json_t *da = json_array();
    for (int i = 0; i < r->n_addl; i++)
        if (r->dec_addl[i])
            json_array_append_new(da, dec_ticket_json(r->dec_addl[i]));
    if (json_array_size(da))
        json_object_set_new(dec, "additional", da);
    else
        json_decref(da);
    if (r->dec_reply)
        json_object_set_new(dec, "reply", dec_ticket_json(r->dec_reply));
    if (json_object_size(dec))
        json_object_set_new(o, "decrypted", dec);
    else
        json_decref(dec);
    const char *result = r->rep_type == KRB_ERROR ? "failure" : r->rep_type ? "success" : "unknown";
    json_object_set_new(o, "result", jstr(result));
    if (r->rep_type == KRB_ERROR) {
        json_t *er = krb_error_json(r->error_code, r->e_text, r->has_ntstatus, r->ntstatus);
        /* the error's own realm and sname, when they differ from what the client asked for */
        if (r->err_realm[0] && strcmp(r->err_realm, r->realm) != 0)
            json_object_set_new(er, "realm", jstr(r->err_realm));
        if (r->err_sname[0] && strcmp(r->err_sname, r->sname) != 0) {
            char es[2 * KRB_NAME_MAX + 2];
            kdc_principal_join(es, sizeof es, r->err_sname, r->err_realm);
            json_object_set_new(er, "sname", jstr(es));
        }
        if (r->n_e_padata)
            json_object_set_new(er, "e_data_padata", padata_json(r->e_padata, r->n_e_padata));
        if (r->n_etype_info2)
            json_object_set_new(er, "etype_info2", etypes_json(r->etype_info2, r->n_etype_info2));
        json_object_set_new(o, "error", er);
    }
    return o;
}

/* One `dcom` record: an activation or OXID resolution, and the connection its string bindings led to. */
static json_t *dcom_json(const struct dcom_rec *d)
{
    json_t *o = record_head("dcom", &d->h);
    json_t *fr = json_object();
    set_frame(fr, "request", d->frame_req);
    set_frame(fr, "response", d->frame_resp);
    json_object_set_new(o, "frames", fr);
    json_object_set_new(o, "community_id", jstr(d->h.community_id));
    json_object_set_new(o, "client", endpoint_json(d->h.flow.af, &d->h.flow.cli));
    json_object_set_new(o, "server", endpoint_json(d->h.flow.af, &d->h.flow.srv));
    set_str(o, "interface", d->iface);
    if (d->op)
        json_object_set_new(o, "op", jstr(d->op));
    json_object_set_new(o, "opnum", json_integer(d->opnum));
    if (d->auth_level) {
        const char *al = dcerpc_auth_level_name(d->auth_level);
        json_object_set_new(o, "auth_level", al ? jstr(al) : json_integer(d->auth_level));
    }
    if (d->auth)
        json_object_set_new(o, "auth_record", json_integer((json_int_t)d->auth));
    set_str(o, "user", d->user);
    if (d->sealed_req || d->sealed_resp)
        json_object_set_new(o, "sealed", json_true());
    if (d->have_com_version) {
        char v[16];
        snprintf(v, sizeof v, "%u.%u", d->com_major, d->com_minor);
        json_object_set_new(o, "com_version", jstr(v));
    }
    if (d->have_clsid) {
        char u[37];
        dcerpc_uuid_str(d->clsid, 1, u);
        json_object_set_new(o, "clsid", jstr(u));
        set_str(o, "class", d->class_name);
    }
    json_t *b = json_array();
    for (uint8_t i = 0; i < d->n_bindings && i < DCOM_BINDINGS_MAX; i++) {
        const struct dcom_binding *e = &d->bindings[i];
        const char *t = dcom_tower_name(e->tower_id);
        char tn[16];
        if (!t) {
            snprintf(tn, sizeof tn, "tower_0x%02x", e->tower_id);
            t = tn;
        }
        json_array_append_new(b, json_pack("{s:s, s:s}", "protseq", t, "address", e->addr));
    }
    json_object_set_new(o, "bindings", b);
    if (d->bindings_cut)
        json_object_set_new(o, "bindings_truncated", json_true());
    if (d->linked) {
        json_t *c = json_object();
        json_object_set_new(c, "community_id", jstr(d->conn_community_id));
        json_object_set_new(c, "client", endpoint_json(d->conn.af, &d->conn.cli));
        json_object_set_new(c, "server", endpoint_json(d->conn.af, &d->conn.srv));
        json_t *ids = json_array();
        for (uint8_t i = 0; i < d->n_conn_records && i < DCOM_LINKED_MAX; i++)
            json_array_append_new(ids, json_integer((json_int_t)d->conn_records[i]));
        json_object_set_new(c, "records", ids);
        json_object_set_new(o, "connection", c);
    }
    const char *result = "unknown";
    if (d->fault)
        result = "failure";
    else if (d->status.space == STATUS_HRESULT)
        result = (d->status.code & 0x80000000u) ? "failure" : "success";
    else if (d->status.space == STATUS_WIN32)
        result = d->status.code ? "failure" : "success";
    json_object_set_new(o, "result", jstr(result));
    if (d->status.space != STATUS_NONE)
        json_object_set_new(o, "status", status_json(d->status));
    return o;
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

static json_t *stats_counters_json(const struct hs_stats_view *v);

/* A live capture's own counters: the sums, then each interface's. */
static json_t *capture_json(const struct hs_capture_stats *c)
{
    json_t *ifs = json_array();
    for (unsigned i = 0; i < c->n; i++)
        json_array_append_new(ifs, json_pack("{s:s, s:I, s:I, s:I}", "name", c->ifs[i].name ? c->ifs[i].name : "",
                                             "received", (json_int_t)c->ifs[i].received, "kernel_drops",
                                             (json_int_t)c->ifs[i].kernel_drops, "interface_drops",
                                             (json_int_t)c->ifs[i].interface_drops));
    return json_pack("{s:I, s:I, s:I, s:o}", "received", (json_int_t)c->received, "kernel_drops",
                     (json_int_t)c->kernel_drops, "interface_drops", (json_int_t)c->interface_drops, "interfaces", ifs);
}

/* A `stats` record: "type", "ts", "final" first, the counters, then what is held now and the capture's own. */
static json_t *stats_json(const struct hs_stats_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", jstr("stats"));
    if (v->has_ts) {
        char ts[32];
        format_ts(&v->ts, ts);
        json_object_set_new(o, "ts", jstr(ts));
    }
    json_object_set_new(o, "final", json_boolean(!v->periodic));
    json_object_update_new(o, stats_counters_json(v));
    json_object_set_new(o, "flows_tracked", json_integer((json_int_t)v->flows_tracked));
    json_object_set_new(o, "memory", json_pack("{s:I, s:I, s:I, s:I}", "held", (json_int_t)v->memory, "limit",
                                               (json_int_t)v->memory_limit, "out_of_order", (json_int_t)v->ooo_bytes,
                                               "pdu_buffers", (json_int_t)v->pdu_bytes));
    if (v->cap)
        json_object_set_new(o, "capture", capture_json(v->cap));
    return o;
}

/* The counters of a `stats` record. */
static json_t *stats_counters_json(const struct hs_stats_view *v)
{
    const struct hs_stats *s = v->st;
    const struct decode_stats *d = v->dec;
    json_t *mal = json_pack("{s:I, s:I, s:I, s:I}", "link", (json_int_t)d->malformed_link, "ip",
                            (json_int_t)d->malformed_ip, "tcp", (json_int_t)d->malformed_tcp, "tunnel",
                            (json_int_t)d->malformed_tunnel);
    for (size_t i = 0; i < sizeof malformed_names / sizeof *malformed_names; i++)
        json_object_set_new(mal, malformed_names[i].name, json_integer((json_int_t)s->malformed[malformed_names[i].i]));
    json_t *tcp = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "gaps", (json_int_t)s->tcp_gaps, "gap_bytes",
                            (json_int_t)s->tcp_gap_bytes, "retransmitted", (json_int_t)s->tcp_retransmitted,
                            "overlaps", (json_int_t)s->tcp_overlaps, "conflicts", (json_int_t)s->tcp_conflicts,
                            "out_of_order", (json_int_t)s->tcp_out_of_order);
    json_t *dec = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                            "non_ip", (json_int_t)d->non_ip, "other_transport", (json_int_t)d->other_transport,
                            "truncated", (json_int_t)d->truncated, "vlan_tags", (json_int_t)d->vlan,
                            "gre", (json_int_t)d->gre, "erspan", (json_int_t)d->erspan, "vxlan", (json_int_t)d->vxlan,
                            "ip_in_ip", (json_int_t)d->ipip, "ipv4_fragments", (json_int_t)d->ipv4_fragments,
                            "ipv4_reassembled", (json_int_t)d->ipv4_reassembled,
                            "ipv4_tso_length0", (json_int_t)d->ipv4_tso);
    json_t *drop = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "flows_evicted", (json_int_t)s->flows_evicted,
                             "ooo_bytes", (json_int_t)s->ooo_dropped_bytes, "pdu_oversize", (json_int_t)s->pdu_oversize,
                             "ipv4_fragments", (json_int_t)d->ipv4_frag_dropped, "ipv6_fragments",
                             (json_int_t)d->ipv6_fragments, "records", (json_int_t)s->records_dropped, "uses",
                             (json_int_t)s->uses_dropped);
    json_object_set_new(drop, "partial_at_close", json_integer((json_int_t)s->partial_at_close));
    json_object_set_new(drop, "flows_evicted_memory", json_integer((json_int_t)s->memory_evicted));
    json_t *time = json_pack("{s:I, s:I}", "steps_back", (json_int_t)s->time_steps_back, "steps_forward",
                             (json_int_t)s->time_steps_forward);
    return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
                     "interrupted", (int)s->interrupted,
                     "packets", (json_int_t)s->packets, "bytes", (json_int_t)s->bytes, "tcp_packets",
                     (json_int_t)s->tcp_packets, "udp_packets", (json_int_t)s->udp_packets, "flows",
                     (json_int_t)s->flows, "flows_expired", (json_int_t)s->flows_expired, "auth_records",
                     (json_int_t)s->records, "kerberos_records", (json_int_t)s->kdc_records, "tickets_not_decrypted", (json_int_t)s->krb_undecrypted, "smb2_encrypted", (json_int_t)s->smb2_encrypted, "tcp", tcp,
                     "decode", dec, "malformed", mal, "dropped", drop, "time", time);
}

static void write_json(struct hs_writer *w, json_t *j)
{
    /* One string, one write: json_dumpf would issue an fwrite per token. */
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s || fputs(s, w->f) == EOF || fputc('\n', w->f) == EOF)
        w->failed = true;
    free(s);
    json_decref(j);
}

char *stats_json_line(const struct hs_stats_view *v)
{
    json_t *j = stats_json(v);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

static void json_record(struct hs_writer *w, const struct rec_hdr *r)
{
    if (r->type == REC_DCOM)
        write_json(w, dcom_json((const struct dcom_rec *)r));
    else
        write_json(w, r->type == REC_AUTH ? auth_json((const struct auth_rec *)r) : kdc_json((const struct kdc_rec *)r));
}

/* One `finding`: what went wrong across records, the evidence, the fix. */
static json_t *finding_json(const struct hs_finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", jstr("finding"));
    json_object_set_new(o, "id", jstr(f->id));
    json_object_set_new(o, "severity", jstr(f->severity));
    json_object_set_new(o, "confidence", jstr(f->confidence));
    json_object_set_new(o, "title", jstr(f->title));
    set_str(o, "user", f->user);
    json_t *h = json_object();
    set_str(h, "client", f->client);
    set_str(h, "first_hop", f->first_hop);
    set_str(h, "second_hop", f->second_hop);
    set_str(h, "client_name", f->client_name);
    set_str(h, "first_hop_name", f->first_hop_name);
    set_str(h, "second_hop_name", f->second_hop_name);
    json_object_set_new(o, "hosts", h);
    json_t *ev = json_object(), *recs = json_array(), *frames = json_array();
    for (uint32_t i = 0; i < f->nrecords; i++)
        json_array_append_new(recs, json_integer((json_int_t)f->records[i]));
    for (uint32_t i = 0; i < f->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)f->frames[i]));
    json_object_set_new(ev, "records", recs);
    json_object_set_new(ev, "frames", frames);
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "explanation", jstr(f->explanation));
    json_object_set_new(o, "remediation", jstr(f->remediation));
    return o;
}

json_t *json_of_record(const struct rec_hdr *r)
{
    return r->type == REC_AUTH ? auth_json((const struct auth_rec *)r) : kdc_json((const struct kdc_rec *)r);
}

json_t *json_of_finding(const struct hs_finding *f)
{
    return finding_json(f);
}

static void json_finding(struct hs_writer *w, const struct hs_finding *f)
{
    write_json(w, finding_json(f));
}

static void json_stats(struct hs_writer *w, const struct hs_stats_view *v)
{
    write_json(w, stats_json(v));
}

const struct hs_writer_ops json_writer_ops = {
    .record = json_record,
    .finding = json_finding,
    .stats = json_stats,
};

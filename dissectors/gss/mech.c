/* Mechanism dispatch — RFC 4178 (SPNEGO) → MS-NLMP (NTLMSSP) | RFC 4121 (GSS krb5): tokens into records. */
#include "mech.h"

#include <stdlib.h>
#include <string.h>

#include "kerberos.h"
#include "krbdec.h"
#include "ntlmproof.h"
#include "ntlmssp.h"
#include "reader.h"
#include "util.h"

int gss_blob_parse(struct hs_ctx *ctx, const uint8_t *p, size_t n, struct gss_token *t)
{
    if (gss_token_parse(p, n, t) == 0)
        return 0;
    ctx->st->malformed[DIS_SPNEGO]++;
    return -1;
}

bool gss_token_starts(const struct gss_token *t)
{
    if (t->kind == GSS_SPNEGO_INIT)
        return true;
    if (t->inner_mech == MECH_NTLMSSP && t->inner_len >= 12)
        return ld_u32le(t->inner + 8) == NTLMSSP_NEGOTIATE_MESSAGE;
    return t->kind == GSS_KRB5 && t->krb5_tok_id == KRB5_TOK_AP_REQ;
}

bool gss_token_is_final(const struct gss_token *t)
{
    if (t->inner_mech == MECH_NTLMSSP && t->inner_len >= 12)
        return ld_u32le(t->inner + 8) == NTLMSSP_AUTHENTICATE_MESSAGE;
    if ((t->inner_mech == MECH_KRB5 || t->inner_mech == MECH_KRB5_U2U) && t->krb5_tok_id == KRB5_TOK_AP_REQ)
        return true;
    return t->kind == GSS_SPNEGO_RESP && t->inner_mech == MECH_NONE; /* mechListMIC-only leg */
}

static void apply_ntlm(struct hs_ctx *ctx, struct auth_rec *r, const uint8_t *p, size_t n)
{
    struct gss_ntlm *g = &r->gss.ntlm;
    struct auth_frames *fr = &r->frames;
    struct ntlm_msg m;
    if (ntlmssp_parse(p, n, &m) != NTLM_OK) {
        ctx->st->malformed[DIS_NTLMSSP]++;
        return;
    }
    g->seen = true;
    ctx->st->malformed[DIS_NTLMSSP_FIELDS] += m.bad_fields;
    ctx->st->malformed[DIS_NTLMSSP_ODD_UTF16] += m.odd_utf16;
    struct ntlm_proof *pf = ntlm_proof_get(ctx, r); /* NULL without --creds */
    if (pf && m.type != NTLMSSP_AUTHENTICATE_MESSAGE)
        ntlm_proof_keep(pf, m.type, p, n);
    switch (m.type) {
    case NTLMSSP_NEGOTIATE_MESSAGE:
        g->flags[0] = m.flags;
        fr->negotiate = ctx->frame;
        if (m.version.present)
            g->client_version = m.version;
        memcpy(g->neg_domain, m.domain, sizeof g->neg_domain);
        memcpy(g->neg_workstation, m.workstation, sizeof g->neg_workstation);
        break;
    case NTLMSSP_CHALLENGE_MESSAGE:
        g->flags[1] = m.flags;
        fr->challenge = ctx->frame;
        if (!g->chal)
            g->chal = malloc(sizeof m);
        if (g->chal)
            *g->chal = m;
        break;
    case NTLMSSP_AUTHENTICATE_MESSAGE:
        g->flags[2] = m.flags;
        fr->authenticate = ctx->frame;
        if (m.version.present)
            g->client_version = m.version;
        if (!g->auth)
            g->auth = malloc(sizeof m);
        if (g->auth)
            *g->auth = m;
        if (pf)
            ntlm_proof_authenticate(ctx->creds, pf, &m, p, n, g->chal ? g->chal->server_challenge : NULL);
        break;
    default:
        break;
    }
}

/* The AP-REQ's clear parts, its ticket by digest (the correlation stage names the client from the reply
 * that issued it), and with keys the ticket and authenticator decrypted. */
/* One parsed message per thread, reused (krb_parse sets it whole), as the KDC dissector does: a 3.6 KB malloc
 * per GSS Kerberos token otherwise. apply_ap_req and apply_krb_error never nest. */
static _Thread_local struct krb_msg gss_msg;

static void apply_ap_req(struct hs_ctx *ctx, struct gss_krb *k, const uint8_t *p, size_t n)
{
    struct krb_msg *m = &gss_msg;
    if (krb_parse(p, n, m) != 0 || m->msg_type != KRB_AP_REQ) {
        ctx->st->malformed[DIS_KERBEROS]++;
        return;
    }
    const struct krb_ap_req *a = &m->u.ap_req;
    strlcpy_n(k->spn, sizeof k->spn, a->ticket.sname.name, sizeof a->ticket.sname.name);
    strlcpy_n(k->realm, sizeof k->realm, a->ticket.realm, sizeof a->ticket.realm);
    k->etype = a->ticket.enc.etype;
    k->has_kvno = a->ticket.enc.has_kvno;
    k->kvno = a->ticket.enc.kvno;
    k->ap_options = a->ap_options;
    k->auth_etype = a->authenticator.etype;
    krb_ticket_ref_fill(&k->ticket, &a->ticket);
    free(k->dec_ticket);
    free(k->dec_auth);
    k->dec_ticket = krb_decrypt_ticket(ctx->keys, ctx->st, &a->ticket);
    k->dec_auth = krb_decrypt_authenticator(ctx->keys, k->dec_ticket, &a->authenticator, KU_AP_REQ_AUTH);
}

static void apply_krb_error(struct hs_ctx *ctx, struct gss_krb *k, const uint8_t *p, size_t n)
{
    struct krb_msg *m = &gss_msg;
    if (krb_parse(p, n, m) == 0 && m->msg_type == KRB_ERROR) {
        k->error_code = m->u.err.error_code;
        strlcpy_n(k->e_text, sizeof k->e_text, m->u.err.e_text, sizeof m->u.err.e_text);
    } else {
        ctx->st->malformed[DIS_KERBEROS]++;
    }
}

void gss_apply(struct hs_ctx *ctx, struct auth_rec *r, const struct gss_token *t, int dir, bool bare_ntlm_scheme)
{
    (void)dir;
    struct auth_gss *g = &r->gss;
    if (t->mech_list_mic)
        g->spnego.mech_list_mic = true;
    switch (t->kind) {
    case GSS_NTLMSSP:
        if (g->mech == AMECH_UNKNOWN)
            g->mech = bare_ntlm_scheme || r->transport != TRANSPORT_HTTP ? AMECH_NTLM : AMECH_NEGOTIATE_NTLM;
        break;
    case GSS_SPNEGO_INIT:
        g->spnego.mech_types |= t->mech_types;
        if (g->mech == AMECH_UNKNOWN)
            g->mech = AMECH_NEGOTIATE;
        break;
    case GSS_SPNEGO_RESP:
        if (t->neg_state != NEG_STATE_ABSENT)
            g->spnego.neg_state = t->neg_state;
        /* The acceptor's supportedMech is its choice (RFC 4178 4.2.2): it outranks a guess made from the
         * initiator's optimistic token (a Kerberos token the server declined in favour of NTLM). */
        if (t->supported_mech == MECH_NTLMSSP && (g->mech == AMECH_NEGOTIATE_KERBEROS || g->mech == AMECH_NEGOTIATE ||
                                                  g->mech == AMECH_UNKNOWN))
            g->mech = AMECH_NEGOTIATE_NTLM;
        else if (g->mech == AMECH_UNKNOWN || g->mech == AMECH_NEGOTIATE) {
            if (t->supported_mech & (MECH_KRB5 | MECH_MS_KRB5 | MECH_KRB5_U2U | MECH_IAKERB))
                g->mech = AMECH_NEGOTIATE_KERBEROS;
            else if (g->mech == AMECH_UNKNOWN)
                g->mech = AMECH_NEGOTIATE;
        }
        break;
    case GSS_KRB5:
        if (g->mech == AMECH_UNKNOWN)
            g->mech = AMECH_KERBEROS;
        break;
    case GSS_UNKNOWN:
        break;
    }
    if (t->inner_mech == MECH_NTLMSSP) {
        if (g->mech == AMECH_NEGOTIATE || g->mech == AMECH_UNKNOWN)
            g->mech = AMECH_NEGOTIATE_NTLM;
        apply_ntlm(ctx, r, t->inner, t->inner_len);
    } else if (t->inner_mech == MECH_KRB5 || t->inner_mech == MECH_KRB5_U2U) {
        if (g->mech == AMECH_NEGOTIATE || g->mech == AMECH_UNKNOWN)
            g->mech = AMECH_NEGOTIATE_KERBEROS;
        switch (t->krb5_tok_id) {
        case KRB5_TOK_AP_REQ:
            g->krb.ap_req = true;
            r->frames.ap_req = ctx->frame;
            apply_ap_req(ctx, &g->krb, t->krb5_msg, t->krb5_msg_len);
            break;
        case KRB5_TOK_AP_REP:
            g->krb.ap_rep = true;
            r->frames.ap_rep = ctx->frame;
            break;
        case KRB5_TOK_ERROR:
            g->krb.error = true;
            apply_krb_error(ctx, &g->krb, t->krb5_msg, t->krb5_msg_len);
            break;
        default:
            break;
        }
    }
}

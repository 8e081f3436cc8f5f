/* Authentication records: built from tokens dissectors hand over, emitted when the session ends. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "http.h"
#include "kdc.h"
#include "kerberos.h"
#include "output.h"
#include "util.h"
#include "reader.h"
#include "smb2.h"

struct auth_rec *auth_new(struct hs_engine *e, struct hs_conn *c, enum auth_transport t)
{
    uint32_t open = 0;
    for (struct auth_rec *r = c->recs; r; r = r->next)
        open++;
    if (open >= e->lim.max_records_per_conn) {
        /* The oldest finished record makes room; if none is finished the new one is dropped. */
        struct auth_rec *done = NULL;
        for (struct auth_rec *r = c->recs; r; r = r->next)
            if (!r->in_progress) {
                done = r;
                break;
            }
        if (!done) {
            e->st.records_dropped++;
            return NULL;
        }
        auth_emit(e, c, done);
    }
    if (e->nrecs_held >= e->lim.max_records_total && e->recs_oldest) {
        /* All connections together hold as many records as the engine keeps (input opening connection
         * after connection, each with attempts that never end): the oldest anywhere is written now. */
        struct auth_rec *old = e->recs_oldest;
        auth_emit(e, old->conn, old);
    }
    struct auth_rec *r = calloc(1, sizeof *r);
    if (!r) {
        e->st.records_dropped++;
        return NULL;
    }
    r->conn = c;
    r->gprev = e->recs_newest;
    if (e->recs_newest)
        e->recs_newest->gnext = r;
    else
        e->recs_oldest = r;
    e->recs_newest = r;
    e->nrecs_held++;
    r->transport = t;
    r->ts = e->now;
    r->in_progress = true;
    r->neg_state = NEG_STATE_ABSENT;
    struct auth_rec **pp = &c->recs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    c->nrecs++;
    return r;
}

bool auth_token_starts(const struct gss_token *t)
{
    if (t->kind == GSS_SPNEGO_INIT)
        return true;
    if (t->inner_mech == MECH_NTLMSSP && t->inner_len >= 12) {
        uint32_t type = ld_u32le(t->inner + 8);
        return type == NTLMSSP_NEGOTIATE_MESSAGE;
    }
    if (t->kind == GSS_KRB5 && t->krb5_tok_id == KRB5_TOK_AP_REQ)
        return true;
    return false;
}

static void apply_ntlm(struct hs_engine *e, struct auth_rec *r, const uint8_t *p, size_t n)
{
    struct ntlm_msg m;
    if (ntlmssp_parse(p, n, &m) != NTLM_OK) {
        e->st.malformed[DIS_NTLMSSP]++;
        return;
    }
    r->ntlm_seen = true;
    switch (m.type) {
    case NTLMSSP_NEGOTIATE_MESSAGE:
        r->ntlm_flags[0] = m.flags;
        r->frames.negotiate = e->frame;
        if (m.version.present)
            r->client_version = m.version;
        memcpy(r->ntlm_neg_domain, m.domain, sizeof r->ntlm_neg_domain);
        memcpy(r->ntlm_neg_workstation, m.workstation, sizeof r->ntlm_neg_workstation);
        break;
    case NTLMSSP_CHALLENGE_MESSAGE:
        r->ntlm_flags[1] = m.flags;
        r->frames.challenge = e->frame;
        if (!r->ntlm_chal)
            r->ntlm_chal = malloc(sizeof m);
        if (r->ntlm_chal)
            *r->ntlm_chal = m;
        break;
    case NTLMSSP_AUTHENTICATE_MESSAGE:
        r->ntlm_flags[2] = m.flags;
        r->frames.authenticate = e->frame;
        if (m.version.present)
            r->client_version = m.version;
        if (!r->ntlm_auth)
            r->ntlm_auth = malloc(sizeof m);
        if (r->ntlm_auth)
            *r->ntlm_auth = m;
        break;
    default:
        break;
    }
}

/* The AP-REQ's clear parts; the ticket's digest finds the TGS-REP that issued it, naming the client. */
static void apply_ap_req(struct hs_engine *e, struct auth_rec *r, const uint8_t *p, size_t n)
{
    struct krb_msg *m = malloc(sizeof *m);
    if (!m)
        return;
    if (krb_parse(p, n, m) != 0 || m->msg_type != KRB_AP_REQ) {
        e->st.malformed[DIS_KERBEROS]++;
        free(m);
        return;
    }
    const struct krb_ap_req *a = &m->u.ap_req;
    strlcpy_n(r->krb_spn, sizeof r->krb_spn, a->ticket.sname.name, sizeof a->ticket.sname.name);
    strlcpy_n(r->krb_realm, sizeof r->krb_realm, a->ticket.realm, sizeof a->ticket.realm);
    r->krb_etype = a->ticket.enc.etype;
    r->krb_has_kvno = a->ticket.enc.has_kvno;
    r->krb_kvno = a->ticket.enc.kvno;
    r->krb_ap_options = a->ap_options;
    r->krb_auth_etype = a->authenticator.etype;
    kdc_ticket_ref(e, &a->ticket, &r->krb_ticket);
    free(r->krb_dec_ticket);
    free(r->krb_dec_auth);
    r->krb_dec_ticket = kdc_decrypt_ticket(e, &a->ticket);
    r->krb_dec_auth = kdc_decrypt_authenticator(e, r->krb_dec_ticket, &a->authenticator, KU_AP_REQ_AUTH);
    free(m);
}

static void apply_krb_error(struct hs_engine *e, struct auth_rec *r, const uint8_t *p, size_t n)
{
    struct krb_msg *m = malloc(sizeof *m);
    if (!m)
        return;
    if (krb_parse(p, n, m) == 0 && m->msg_type == KRB_ERROR) {
        r->krb_error_code = m->u.err.error_code;
        strlcpy_n(r->krb_e_text, sizeof r->krb_e_text, m->u.err.e_text, sizeof m->u.err.e_text);
    } else {
        e->st.malformed[DIS_KERBEROS]++;
    }
    free(m);
}

void auth_apply_token(struct hs_engine *e, struct auth_rec *r, const struct gss_token *t, int dir,
                      bool http_ntlm_scheme)
{
    (void)dir;
    if (t->mech_list_mic)
        r->spnego_mech_list_mic = true;
    switch (t->kind) {
    case GSS_NTLMSSP:
        if (r->mech == AMECH_UNKNOWN)
            r->mech = http_ntlm_scheme || r->transport != TRANSPORT_HTTP ? AMECH_NTLM : AMECH_NEGOTIATE_NTLM;
        break;
    case GSS_SPNEGO_INIT:
        r->spnego_mech_types |= t->mech_types;
        if (r->mech == AMECH_UNKNOWN)
            r->mech = AMECH_NEGOTIATE;
        break;
    case GSS_SPNEGO_RESP:
        if (t->neg_state != NEG_STATE_ABSENT)
            r->neg_state = t->neg_state;
        if (r->mech == AMECH_UNKNOWN || r->mech == AMECH_NEGOTIATE) {
            if (t->supported_mech == MECH_NTLMSSP)
                r->mech = AMECH_NEGOTIATE_NTLM;
            else if (t->supported_mech & (MECH_KRB5 | MECH_MS_KRB5 | MECH_KRB5_U2U | MECH_IAKERB))
                r->mech = AMECH_NEGOTIATE_KERBEROS;
            else if (r->mech == AMECH_UNKNOWN)
                r->mech = AMECH_NEGOTIATE;
        }
        break;
    case GSS_KRB5:
        if (r->mech == AMECH_UNKNOWN)
            r->mech = AMECH_KERBEROS;
        break;
    case GSS_UNKNOWN:
        break;
    }
    if (t->inner_mech == MECH_NTLMSSP) {
        if (r->mech == AMECH_NEGOTIATE || r->mech == AMECH_UNKNOWN)
            r->mech = AMECH_NEGOTIATE_NTLM;
        apply_ntlm(e, r, t->inner, t->inner_len);
    } else if (t->inner_mech == MECH_KRB5 || t->inner_mech == MECH_KRB5_U2U) {
        if (r->mech == AMECH_NEGOTIATE || r->mech == AMECH_UNKNOWN)
            r->mech = AMECH_NEGOTIATE_KERBEROS;
        switch (t->krb5_tok_id) {
        case KRB5_TOK_AP_REQ:
            r->krb_ap_req = true;
            r->frames.ap_req = e->frame;
            apply_ap_req(e, r, t->krb5_msg, t->krb5_msg_len);
            break;
        case KRB5_TOK_AP_REP:
            r->krb_ap_rep = true;
            r->frames.ap_rep = e->frame;
            break;
        case KRB5_TOK_ERROR:
            r->krb_error = true;
            apply_krb_error(e, r, t->krb5_msg, t->krb5_msg_len);
            break;
        default:
            break;
        }
    }
}

void auth_verdict(struct hs_engine *e, struct auth_rec *r, enum auth_result res, uint32_t status)
{
    r->result = res;
    r->status = status;
    r->have_status = true;
    r->frames.verdict = e->frame;
    r->in_progress = false;
}

struct auth_use *auth_add_use(struct hs_engine *e, struct auth_rec *r)
{
    if (r->nuses >= e->lim.max_uses_per_record) {
        r->uses_dropped++;
        e->st.uses_dropped++;
        return NULL;
    }
    if (r->nuses == r->uses_cap) {
        /* Grown on demand: most records have a use or two, and a record is not worth 32 of them up front. */
        uint32_t cap = r->uses_cap ? 2 * r->uses_cap : 4;
        if (cap > e->lim.max_uses_per_record)
            cap = e->lim.max_uses_per_record;
        struct auth_use *nu = realloc(r->uses, (size_t)cap * sizeof *nu);
        if (!nu) {
            r->uses_dropped++;
            e->st.uses_dropped++;
            return NULL;
        }
        r->uses = nu;
        r->uses_cap = cap;
    }
    struct auth_use *u = &r->uses[r->nuses++];
    memset(u, 0, sizeof *u);
    u->frame_req = e->frame;
    return u;
}

static void rec_free(struct auth_rec *r)
{
    free(r->krb_dec_ticket);
    free(r->krb_dec_auth);
    free(r->ntlm_auth);
    free(r->ntlm_chal);
    free(r->uses);
    free(r);
}

/* Takes r off the engine's list of records held. */
static void rec_unlink(struct hs_engine *e, struct auth_rec *r)
{
    if (r->gprev)
        r->gprev->gnext = r->gnext;
    else
        e->recs_oldest = r->gnext;
    if (r->gnext)
        r->gnext->gprev = r->gprev;
    else
        e->recs_newest = r->gprev;
    e->nrecs_held--;
}

void auth_emit(struct hs_engine *e, struct hs_conn *c, struct auth_rec *r)
{
    struct auth_rec **pp = &c->recs;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    c->nrecs--;
    rec_unlink(e, r);
    smb2_forget_rec(c, r);
    http_forget_rec(c, r);
    e->st.records++;
    output_record(e->out, e, c, r);
    rec_free(r);
}

void auth_flush_conn(struct hs_engine *e, struct hs_conn *c)
{
    while (c->recs)
        auth_emit(e, c, c->recs);
}

void auth_free_conn_state(struct hs_engine *e, struct hs_conn *c)
{
    while (c->recs) {
        struct auth_rec *r = c->recs;
        c->recs = r->next;
        rec_unlink(e, r);
        rec_free(r);
    }
    c->nrecs = 0;
    smb2_free(c);
    http_free(c);
    kdc_free(e, c);
}

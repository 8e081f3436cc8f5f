/* The correlation stage: ticket linking across connections (RFC 4120 3.1.3/3.3.3, MS-SFU 3.2.5), from records. */
#include "correlate.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Names a referenced ticket from the reply that issued it, if one was seen. */
static void resolve(const struct ticket_table *t, struct kdc_ticket_ref *ref)
{
    if (!ref->digest[0])
        return;
    const struct ticket_info *ti = tickets_get(t, ref->digest);
    if (ti) {
        strlcpy_n(ref->client, sizeof ref->client, ti->client, sizeof ti->client);
        ref->issued_frame = ti->frame;
    }
}

/* RFC 8062 anonymous principal: what a FAST-armored reply (RFC 6113 5.4.3) shows outside. */
static bool is_anonymous(const char *name, const char *realm)
{
    return !strcmp(name, "WELLKNOWN/ANONYMOUS") && !strcmp(realm, "WELLKNOWN:ANONYMOUS");
}

/*
 * Whom the issued ticket is for. The reply's cname says so, unless FAST hid it behind the anonymous
 * principal; then the request tells: the TGT's holder (plain TGS), the PA-FOR-USER user (S4U2Self), or
 * the evidence ticket's holder (S4U2Proxy).
 */
static void effective_client(const struct kdc_rec *r, char *out, size_t cap)
{
    if (!is_anonymous(r->rep_cname, r->rep_crealm)) {
        kdc_principal_join(out, cap, r->rep_cname, r->rep_crealm);
        return;
    }
    out[0] = '\0';
    if (r->kind == KDC_KIND_S4U2SELF)
        kdc_principal_join(out, cap, r->for_user, r->for_user_realm);
    else if (r->kind == KDC_KIND_S4U2PROXY && r->n_addl)
        strlcpy_n(out, cap, r->addl[0].client, sizeof r->addl[0].client);
    else if (r->has_tgt)
        strlcpy_n(out, cap, r->tgt.client, sizeof r->tgt.client);
}

static void on_kdc(struct hs_correlate *c, struct kdc_rec *r)
{
    if (r->has_tgt)
        resolve(&c->tickets, &r->tgt);
    for (int i = 0; i < r->n_addl; i++)
        resolve(&c->tickets, &r->addl[i]);
    if (!r->has_ticket)
        return;
    /* Remember who this ticket is for: an AP-REQ or S4U2Proxy carrying it later names its client. */
    struct ticket_info ti;
    memset(&ti, 0, sizeof ti);
    memcpy(ti.digest, r->ticket.digest, sizeof ti.digest);
    effective_client(r, ti.client, sizeof ti.client);
    strlcpy_n(ti.sname, sizeof ti.sname, r->ticket.sname, sizeof r->ticket.sname);
    ti.frame = r->ticket.issued_frame;
    strlcpy_n(ti.kind, sizeof ti.kind, kdc_kind_name(r->kind), 16);
    tickets_put(&c->tickets, &ti);
    strlcpy_n(r->ticket.client, sizeof r->ticket.client, ti.client, sizeof ti.client);
}

static void on_record(struct hs_sink *self, struct rec_hdr *r)
{
    struct hs_correlate *c = (struct hs_correlate *)self;
    if (r->type == REC_KERBEROS)
        on_kdc(c, (struct kdc_rec *)r);
    else if (r->type == REC_AUTH && ((struct auth_rec *)r)->gss.krb.ap_req)
        resolve(&c->tickets, &((struct auth_rec *)r)->gss.krb.ticket);
    sink_record(self->next, r);
}

struct hs_correlate *correlate_new(struct hs_sink *next)
{
    struct hs_correlate *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (tickets_init(&c->tickets) != 0) {
        free(c);
        return NULL;
    }
    c->sink.record = on_record;
    c->sink.next = next;
    return c;
}

void correlate_free(struct hs_correlate *c)
{
    if (!c)
        return;
    tickets_free(&c->tickets);
    free(c);
}

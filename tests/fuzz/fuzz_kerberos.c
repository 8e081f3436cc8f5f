/* Fuzz target: krb_parse() on one Kerberos message (RFC 4120 5: AS/TGS-REQ/REP, AP-REQ/REP, KRB-ERROR),
 * as the KDC dissector and the GSS path hand it; every pointer it returns must lie in the input. */
#include "fuzz.h"
#include "kerberos.h"

#include <stdlib.h>

static void check_ticket(const uint8_t *d, size_t n, const struct krb_ticket *t)
{
    FUZZ_CHECK(fuzz_terminated(t->realm, sizeof t->realm));
    FUZZ_CHECK(fuzz_terminated(t->sname.name, sizeof t->sname.name));
    FUZZ_CHECK(fuzz_inside(d, n, t->raw, t->raw_len));
    FUZZ_CHECK(fuzz_inside(d, n, t->enc.cipher, t->enc.cipher_len));
    if (t->present)
        FUZZ_CHECK(fuzz_terminated(t->digest, sizeof t->digest));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct krb_msg *m = malloc(sizeof *m);
    if (!m)
        return 0;
    int rc = krb_parse(data, size, m);
    FUZZ_CHECK(rc == 0 || rc == -1);
    (void)krb_msg_type_name(m->msg_type);
    if (rc == 0) {
        switch (m->msg_type) {
        case KRB_AS_REQ:
        case KRB_TGS_REQ: {
            const struct krb_kdc_req *q = &m->u.req;
            FUZZ_CHECK(q->n_etypes >= 0 && q->n_etypes <= KRB_MAX_ETYPES);
            FUZZ_CHECK(q->n_padata >= 0 && q->n_padata <= KRB_MAX_PADATA);
            FUZZ_CHECK(q->n_addl >= 0 && q->n_addl <= KRB_MAX_ADDL_TICKETS);
            FUZZ_CHECK(fuzz_terminated(q->cname.name, sizeof q->cname.name));
            FUZZ_CHECK(fuzz_terminated(q->for_user.name, sizeof q->for_user.name));
            FUZZ_CHECK(fuzz_terminated(q->till, sizeof q->till));
            for (int i = 0; i < q->n_addl; i++)
                check_ticket(data, size, &q->addl[i]);
            if (q->has_tgs_ap_req)
                check_ticket(data, size, &q->tgs_ap_req.ticket);
            for (int i = 0; i < q->n_etypes; i++)
                (void)krb_etype_name(q->etypes[i]);
            break;
        }
        case KRB_AS_REP:
        case KRB_TGS_REP:
            check_ticket(data, size, &m->u.rep.ticket);
            FUZZ_CHECK(m->u.rep.n_padata >= 0 && m->u.rep.n_padata <= KRB_MAX_PADATA);
            break;
        case KRB_AP_REQ:
            check_ticket(data, size, &m->u.ap_req.ticket);
            FUZZ_CHECK(fuzz_inside(data, size, m->u.ap_req.authenticator.cipher, m->u.ap_req.authenticator.cipher_len));
            break;
        case KRB_ERROR:
            FUZZ_CHECK(fuzz_terminated(m->u.err.e_text, sizeof m->u.err.e_text));
            FUZZ_CHECK(m->u.err.n_e_padata >= 0 && m->u.err.n_e_padata <= KRB_MAX_PADATA);
            (void)krb_error_name(m->u.err.error_code);
            break;
        default:
            break;
        }
    }
    free(m);
    return 0;
}

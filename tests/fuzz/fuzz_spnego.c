/* Fuzz target: gss_token_parse() on a security blob (GSS-API / SPNEGO / krb5 / bare NTLMSSP), and
 * ntlmssp_parse() on the NTLMSSP token it carries, as the SMB2 and HTTP dissectors do. */
#include "fuzz.h"
#include "ntlmssp.h"
#include "spnego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gss_token tok;
    int rc = gss_token_parse(data, size, &tok);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(fuzz_terminated(tok.hint_name, sizeof tok.hint_name));
    if (rc != 0) {
        FUZZ_CHECK(tok.kind == GSS_UNKNOWN);
        return 0;
    }
    FUZZ_CHECK(tok.kind != GSS_UNKNOWN);
    FUZZ_CHECK(tok.neg_state >= NEG_STATE_ABSENT && tok.neg_state <= NEG_STATE_REQUEST_MIC);
    /* Every pointer handed out must lie inside the input. */
    FUZZ_CHECK(fuzz_inside(data, size, tok.inner, tok.inner_len));
    FUZZ_CHECK(fuzz_inside(data, size, tok.krb5_msg, tok.krb5_msg_len));
    if (tok.inner)
        fuzz_touch(tok.inner, tok.inner_len);
    if (tok.krb5_msg)
        fuzz_touch(tok.krb5_msg, tok.krb5_msg_len);
    (void)gss_mech_name(tok.first_mech);
    (void)gss_mech_name(tok.supported_mech);
    (void)spnego_neg_state_name(tok.neg_state);
    if (tok.inner_mech == MECH_NTLMSSP) {
        FUZZ_CHECK(ntlmssp_is(tok.inner, tok.inner_len));
        struct ntlm_msg m;
        (void)ntlmssp_parse(tok.inner, tok.inner_len, &m);
    }
    return 0;
}

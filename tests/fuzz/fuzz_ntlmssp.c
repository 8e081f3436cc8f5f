/* Fuzz target: ntlmssp_parse() on one NTLMSSP message (MS-NLMP 2.2.1). */
#include "fuzz.h"
#include "ntlmssp.h"

static void check_names(const struct ntlm_msg *m)
{
    const char *names[] = {m->domain, m->user, m->workstation, m->target_name, m->nb_computer,
                           m->nb_domain, m->dns_computer, m->dns_domain, m->dns_tree, m->spn};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        FUZZ_CHECK(fuzz_terminated(names[i], NTLM_NAME_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ntlm_msg m;
    enum ntlm_err err = ntlmssp_parse(data, size, &m);
    FUZZ_CHECK(err >= NTLM_OK && err <= NTLM_ERR_AVPAIR);
    FUZZ_CHECK(ntlmssp_is(data, size) == (size >= 8 && memcmp(data, "NTLMSSP", 8) == 0));
    if (err != NTLM_OK)
        return 0;
    FUZZ_CHECK(m.type >= NTLMSSP_NEGOTIATE_MESSAGE && m.type <= NTLMSSP_AUTHENTICATE_MESSAGE);
    check_names(&m);
    /* What the output writer does with a parsed message. */
    FUZZ_CHECK(ntlm_version_name(m.ntlm_version) != NULL);
    FUZZ_CHECK(ntlm_lm_kind_name(m.lm_kind) != NULL);
    for (int i = 0; i < 32; i++)
        (void)ntlmssp_flag_name(m.flags & (1u << i));
    if (m.type == NTLMSSP_AUTHENTICATE_MESSAGE) {
        FUZZ_CHECK(m.lm_len <= size && m.nt_len <= size && m.session_key_len <= size);
        FUZZ_CHECK(m.mic_present == ((m.av_flags & MSV_AV_FLAG_MIC_PRESENT) != 0) ||
                   m.ntlm_version != NTLM_VER_NTLMV2 || m.nt_len <= 44);
    }
    return 0;
}

/* Fuzz target: the whole engine on a TCP connection to port 389 — dissectors/ldap/ldap.c framing (BER
 * LDAPMessages, SASL buffers, StartTLS), binds into SPNEGO, NTLMSSP and Kerberos, reassembly and records.
 * Input format: fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_run(data, size, 389);
}

/* Fuzz target: the whole engine on a TCP connection to port 135 — dissectors/dcerpc/dcerpc.c (binds,
 * security contexts, calls, resynchronisation), SPNEGO, NTLMSSP, Kerberos, reassembly and records.
 * Input format: fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_run(data, size, 135);
}

/* Fuzz target: the whole engine on a TCP connection to port 445 (NBSS, SMB2, SPNEGO, NTLMSSP,
 * reassembly, records). Input format: fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_run(data, size, 445);
}

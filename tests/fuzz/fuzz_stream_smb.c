/* Fuzz target: the whole engine on a TCP connection to port 445 — dissectors/nbss.c framing, then
 * dissectors/smb2.c or smb1.c (AndX chains, both logon forms, pipes), SPNEGO, NTLMSSP, reassembly and
 * records. Input format: fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_run(data, size, 445);
}

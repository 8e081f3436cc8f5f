/* Fuzz target: the whole engine on a TCP connection to port 1433, which no dissector claims — the fallback
 * (dissectors/other/other.c) searching raw and base64 NTLMSSP, reassembly and records.
 * Input format: fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_run(data, size, 1433);
}

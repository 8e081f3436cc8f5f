/* Fuzz target: dcom_request() / dcom_response() on one DCE/RPC stub (MS-DCOM 2.2.13-2.2.22, MS-WMI 3.1.4).
 * Input: a selector byte (bits 0-3 the call, enum dcom_call; bit 4 the response; bit 5 ORPCTHIS/ORPCTHAT first;
 * bit 6 big-endian data representation), then the stub. */
#include "dcom.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    enum dcom_call k = (enum dcom_call)(sel & 0x0f);
    if (k > DCOM_WMI_EXEC_METHOD)
        k = DCOM_CALL_NONE;
    bool response = sel & 0x10, orpc = sel & 0x20, le = !(sel & 0x40);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (response) {
        struct dcom_resp r;
        int rc = dcom_response(k, orpc, p, n, le, &r);
        FUZZ_CHECK(rc == 0 || rc == -1);
        FUZZ_CHECK(r.n_bindings <= DCOM_BINDINGS_MAX);
        FUZZ_CHECK(r.have_status == (n >= 4));
        for (uint8_t i = 0; i < r.n_bindings; i++) {
            FUZZ_CHECK(fuzz_terminated(r.bindings[i].addr, sizeof r.bindings[i].addr));
            FUZZ_CHECK(r.bindings[i].af == 0 || r.bindings[i].af == 4 || r.bindings[i].af == 6);
        }
    } else {
        struct dcom_req q;
        int rc = dcom_request(k, orpc, p, n, le, &q);
        FUZZ_CHECK(rc == 0 || rc == -1);
        FUZZ_CHECK(fuzz_terminated(q.detail, sizeof q.detail));
        FUZZ_CHECK(!q.have_orpcthis || orpc);
        FUZZ_CHECK(q.orpcthis.extents <= DCOM_EXTENTS_MAX);
    }
    struct dcom_binding b[DCOM_BINDINGS_MAX];
    uint8_t nb;
    bool cut;
    long used = dcom_dualstringarray(p, n, le, b, DCOM_BINDINGS_MAX, &nb, &cut);
    FUZZ_CHECK(used == -1 || (used >= 8 && (size_t)used <= n));
    FUZZ_CHECK(nb <= DCOM_BINDINGS_MAX);
    return 0;
}

/* Fuzz target: the dissector registry (dissectors/registry.c) — every probe on the first bytes of a direction,
 * at every length up to PROBE_MIN and beyond, the choice registry_probe() makes, and the port lookups.
 * Input: byte 0 bit 0 the transport (0 TCP, 1 UDP); bytes 1-2 a port, big-endian; the rest, a direction's
 * first bytes. Each probe reads an exact-size heap copy, so ASan sees a read past the bytes it was given. */
#include "dissector.h"
#include "fuzz.h"

/* Runs every probe of transport proto on the n bytes at p, checking that each answers 0-100, the same twice,
 * and that registry_probe() names the first in registry order whose answer reaches its threshold. */
static void probe_all(uint8_t proto, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return;
    memcpy(copy, p, n);
    const struct hs_dissector *first = NULL;
    for (size_t i = 0; hs_dissectors[i]; i++) {
        const struct hs_dissector *d = hs_dissectors[i];
        if (!d->probe)
            continue;
        int score = d->probe(copy, n);
        FUZZ_CHECK(score >= 0 && score <= 100);
        FUZZ_CHECK(d->probe(copy, n) == score);
        if (!first && d->transport == proto && score >= d->threshold)
            first = d;
    }
    FUZZ_CHECK(registry_probe(proto, copy, n) == first);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t proto = data[0] & 1 ? 17 : 6;
    uint16_t port = (uint16_t)(data[1] << 8 | data[2]);
    const uint8_t *p = data + 3;
    size_t n = size - 3;
    /* the engine probes a direction as its bytes come: every short prefix, then the whole */
    for (size_t k = 0; k < n && k <= PROBE_MIN; k++)
        probe_all(proto, p, k);
    probe_all(proto, p, n);
    const struct hs_dissector *d = registry_by_port(proto, port);
    FUZZ_CHECK(!d || d->transport == proto);
    FUZZ_CHECK(!d || registry_server_port(port));
    const struct hs_dissector *fb = registry_fallback(proto);
    FUZZ_CHECK(proto == 6 ? fb != NULL && fb->transport == 6 : fb == NULL);
    return 0;
}

/* Formatting shared by the writers: RFC 3339 timestamps, IP addresses, KerberosTime. */
#include "format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void format_ts(const struct timeval *tv, char out[32])
{
    struct tm tm;
    time_t t = tv->tv_sec;
    gmtime_r(&t, &tm);
    size_t k = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, 32 - k, ".%06ldZ", (long)tv->tv_usec);
}

void format_ip(uint8_t af, const uint8_t *ip, char out[INET6_ADDRSTRLEN])
{
    inet_ntop(af == 4 ? AF_INET : AF_INET6, ip, out, INET6_ADDRSTRLEN);
}

bool format_krb_time(const char *t, char out[24])
{
    if (strlen(t) != 15 || t[14] != 'Z')
        return false;
    snprintf(out, 24, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", t, t + 4, t + 6, t + 8, t + 10, t + 12);
    return true;
}

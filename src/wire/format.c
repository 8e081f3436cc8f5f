/* Formatting shared by the writers: RFC 3339 timestamps, IP addresses, KerberosTime. Called for every record a
 * few times: digits are written by hand (gmtime_r + strftime + snprintf and inet_ntop cost ~2 µs a record). */
#include "format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* n as exactly w decimal digits (0 <= n < 10^w) at p. */
static void digits(char *p, unsigned long n, int w)
{
    for (int i = w - 1; i >= 0; i--, n /= 10)
        p[i] = (char)('0' + n % 10);
}

/* The proleptic Gregorian date of day z since 1970-01-01 (z >= 0); the civil_from_days algorithm of H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms" (public domain), for days counted from 0000-03-01. */
static void civil(long z, long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* What gmtime_r/strftime/snprintf write, for the rare values outside the fast path. */
static void format_ts_slow(const struct timeval *tv, char out[32])
{
    struct tm tm;
    time_t t = tv->tv_sec;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "%lld.%06ld", (long long)tv->tv_sec, (long)tv->tv_usec);
        return;
    }
    size_t k = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, 32 - k, ".%06ldZ", (long)tv->tv_usec);
}

void format_ts(const struct timeval *tv, char out[32])
{
    long s = (long)tv->tv_sec, us = (long)tv->tv_usec;
    if (s < 0 || s >= 253402300800L || us < 0 || us > 999999) { /* before 1970, after 9999, odd microseconds */
        format_ts_slow(tv, out);
        return;
    }
    long y;
    unsigned m, d;
    civil(s / 86400, &y, &m, &d);
    long sod = s % 86400;
    memcpy(out, "0000-00-00T00:00:00.000000Z", 28);
    digits(out, (unsigned long)y, 4);
    digits(out + 5, m, 2);
    digits(out + 8, d, 2);
    digits(out + 11, (unsigned long)(sod / 3600), 2);
    digits(out + 14, (unsigned long)(sod / 60 % 60), 2);
    digits(out + 17, (unsigned long)(sod % 60), 2);
    digits(out + 20, (unsigned long)us, 6);
}

void format_ip(uint8_t af, const uint8_t *ip, char out[INET6_ADDRSTRLEN])
{
    if (af != 4) { /* RFC 5952's zero compression: inet_ntop's */
        inet_ntop(AF_INET6, ip, out, INET6_ADDRSTRLEN);
        return;
    }
    char *p = out;
    for (int i = 0; i < 4; i++) {
        unsigned v = ip[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}

bool format_krb_time(const char *t, char out[24])
{
    if (strlen(t) != 15 || t[14] != 'Z')
        return false;
    /* "YYYYMMDDHHMMSSZ" -> "YYYY-MM-DDTHH:MM:SSZ", the characters as they are (as "%.4s-%.2s..." did) */
    static const signed char from[20] = {0, 1, 2, 3, -'-', 4, 5, -'-', 6, 7, -'T', 8, 9, -':', 10, 11, -':', 12, 13, 14};
    for (int i = 0; i < 20; i++)
        out[i] = from[i] >= 0 ? t[from[i]] : (char)-from[i];
    out[20] = '\0';
    return true;
}

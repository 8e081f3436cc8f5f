/* Formatting shared by the writers: timestamps, addresses. */
#ifndef HOPSCOPE_FORMAT_H
#define HOPSCOPE_FORMAT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

/* Formats tv as RFC 3339 UTC with microseconds ("2026-11-21T22:50:52.123456Z") into out[32]. */
void format_ts(const struct timeval *tv, char out[32]);

/* Formats the address ip (4 bytes for af 4, 16 for af 6, network order) into out. */
void format_ip(uint8_t af, const uint8_t *ip, char out[INET6_ADDRSTRLEN]);

/* KerberosTime "YYYYMMDDHHMMSSZ" (RFC 4120 5.2.3) as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" into out[24]; false
 * (out untouched) when t is not of that shape. */
bool format_krb_time(const char *t, char out[24]);

#endif

/* Records from JSON Lines (docs/RECORDS.md) back into record summaries, tickets linked across sensors
 * (RFC 4120 3.1.3/3.3.3, MS-SFU 3.2.5), and findings whose evidence says which sensor it is of. */
#include "recjson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcerpc_names.h"
#include "kerberos.h"
#include "krbdecrypt.h"
#include "ntlmssp.h"
#include "util.h"

/* Where a summary came from: the record as its sensor wrote it. Indexed by internal id - 1. */
struct origin {
    uint64_t id;               /* the record's `id` on its sensor */
    const char *sensor;        /* interned */
    const char *ticket_sensor; /* auth: whose KDC reply issued its ticket (ticket_issued_frame's capture) */
    uint32_t idx;              /* its summary: c->auth[idx] or c->kdc[idx] */
    bool kdc;
    uint32_t denied_use;       /* auth: the index + 1 of the refused use its summary names (0: none) */
};

/* An AP-REQ's ticket no record read so far has named the client of. */
struct pending_auth {
    uint32_t idx;
    const char *digest;  /* interned */
    bool user_is_client; /* the record names nobody else: its user is the ticket's client */
};

/* A KDC exchange whose tickets no record read so far has named the clients of. */
struct pending_kdc {
    uint32_t idx;
    const char *sensor;
    const char *tgt, *addl; /* digests still to name (NULL: named, or none) */
    const char *reply;      /* the issued ticket, not yet in the ticket table for want of its client */
    const char *reply_sname;
    uint64_t reply_frame;
    enum kdc_kind kind;
    bool cname_from_tgt; /* the cname is the TGT holder's once known (kdc_rec_client()) */
    bool imp_from_addl;  /* S4U2Proxy: the impersonated user is the evidence ticket's holder once known */
    const char *tgt_client, *addl_client; /* once named */
    bool done;
};

/* The stage after the correlation stage: findings with record ids and sensors as the sensors wrote them. */
struct origin_stage {
    struct hs_sink sink; /* must stay first */
    struct recjson *r;
};

struct recjson {
    struct hs_correlate *c;
    struct origin_stage stage;
    struct records_input_stats st;
    FILE *warn;
    uint64_t warned;
    struct origin *origin;
    size_t n_origin, cap_origin;
    struct pending_auth *pa;
    size_t n_pa, cap_pa;
    struct pending_kdc *pk;
    size_t n_pk, cap_pk;
    const char **sensors; /* distinct names seen (interned), an open-addressing set of SENSOR_SLOTS */
    size_t n_sensors;     /* at most RECJSON_SENSORS_MAX */
    char last_raw[4 * RECJSON_SENSOR_NAME_MAX + 1]; /* the last name looked up, and what it was taken as */
    const char *last_as;
    struct finding_sensors **graph_sensors; /* the graph findings' sensors (freed with the reader) */
    size_t n_graph_sensors;
    bool graph_fixed;
    char *buf; /* recjson_read()'s line */
    /* auth records by sensor and id (internal ids, open addressing; 0: empty): the `use` records of a streaming
     * sensor name theirs by id */
    uint64_t *auth_ix;
    size_t n_auth_ix, cap_auth_ix;
    /* `use` records read before their auth record (files given newest first, a rotation splitting a session):
     * kept, at most RECJSON_USES_PENDING_MAX, and taken at recjson_end() */
    struct pending_use {
        const char *sensor;
        json_t *o;
    } *pu;
    size_t n_pu, cap_pu;
};

/* ---- small JSON accessors: a missing key and a value of another type are the same (absent) -------------- */

static const char *str_at(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *str_or_empty(const json_t *o, const char *k)
{
    const char *s = str_at(o, k);
    return s ? s : "";
}

static json_t *obj_at(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_object(v) ? v : NULL;
}

static json_t *arr_at(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_array(v) ? v : NULL;
}

static bool is_true(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

/* A non-negative integer at k into out; false when absent, of another type or negative. */
static bool uint_at(const json_t *o, const char *k, uint64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* A frame number at k, 0 when absent or not one. */
static uint64_t frame_at(const json_t *o, const char *k)
{
    uint64_t v = 0;
    return uint_at(o, k, &v) ? v : 0;
}

/* "0x" and 1 to 8 hex digits (a flag word or status code as the writer spells it) into out. */
static bool hex32(const char *s, uint32_t *out)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    uint32_t v = 0;
    size_t i = 2;
    for (; s[i]; i++) {
        int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                : s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10
                                             : -1;
        if (d < 0 || i >= 10)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* Is s a ticket digest as the writer spells it (32 lower-case hex digits)? */
static bool is_digest(const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= 32 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 32;
}

/* "2026-11-21T22:52:06.767123Z" (RFC 3339: fraction optional, up to 9 digits; Z or +hh:mm / -hh:mm). */
static bool parse_ts(const char *s, struct timeval *tv)
{
    if (!s)
        return false;
    int v[6];
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[6] = {'-', '-', 'T', ':', ':', 0};
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < width[i]; k++, p++) {
            if (*p < '0' || *p > '9')
                return false;
            v[i] = v[i] * 10 + (*p - '0');
        }
        if (sep[i] && *p++ != sep[i] && !(i == 2 && (p[-1] == 't' || p[-1] == ' ')))
            return false;
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    long usec = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        for (; *p >= '0' && *p <= '9'; p++, nd++) {
            if (nd >= 9)
                return false;
            if (nd < 6)
                usec = usec * 10 + (*p - '0');
        }
        if (!nd)
            return false;
        for (; nd < 6; nd++)
            usec *= 10;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' || p[3] != ':' || p[4] < '0' || p[4] > '9' ||
            p[5] < '0' || p[5] > '9')
            return false;
        int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
        if (hh > 23 || mm > 59)
            return false;
        off = sign * (hh * 3600L + mm * 60L);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    tv->tv_sec = t - off;
    tv->tv_usec = usec;
    return true;
}

/* {"ip": "10.0.0.1", "port": 445} into af/ip/port; false unless both are there and valid. */
static bool endpoint(const json_t *o, uint8_t *af, uint8_t ip[16], uint16_t *port)
{
    const char *a = str_at(o, "ip");
    uint64_t p;
    if (!a || !uint_at(o, "port", &p) || p > 65535)
        return false;
    memset(ip, 0, 16);
    if (inet_pton(AF_INET, a, ip) == 1)
        *af = 4;
    else if (inet_pton(AF_INET6, a, ip) == 1)
        *af = 6;
    else
        return false;
    *port = (uint16_t)p;
    return true;
}

/* ---- enumerations by the names the writer gives them ------------------------------------------------- */

/* A record's "client" and "server" endpoints, of one address family. */
static bool endpoints(const json_t *o, uint8_t *af, uint8_t cli[16], uint16_t *cport, uint8_t srv[16],
                      uint16_t *sport)
{
    uint8_t saf;
    return endpoint(obj_at(o, "client"), af, cli, cport) && endpoint(obj_at(o, "server"), &saf, srv, sport) &&
           *af == saf;
}

static int transport_of(const char *s)
{
    for (int t = TRANSPORT_SMB2; t <= TRANSPORT_OTHER; t++)
        if (!strcmp(auth_transport_name((enum auth_transport)t), s))
            return t;
    return -1;
}

static enum auth_mech mech_of(const char *s)
{
    for (int m = AMECH_UNKNOWN; m <= AMECH_SASL; m++)
        if (!strcmp(auth_mech_name((enum auth_mech)m), s))
            return (enum auth_mech)m;
    return AMECH_UNKNOWN;
}

static int result_of(const char *s)
{
    for (int v = RESULT_UNKNOWN; v <= RESULT_FAILURE; v++)
        if (!strcmp(auth_result_name((enum auth_result)v), s))
            return v;
    return -1;
}

static int kdc_kind_of(const char *s)
{
    for (int k = KDC_KIND_AS; k <= KDC_KIND_UNKNOWN; k++)
        if (!strcmp(kdc_kind_name((enum kdc_kind)k), s))
            return k;
    return -1;
}

static int ntlm_version_of(const char *s)
{
    for (int v = NTLM_VER_UNKNOWN; v <= NTLM_VER_EMPTY; v++)
        if (!strcmp(ntlm_version_name((enum ntlm_version)v), s))
            return v;
    return NTLM_VER_UNKNOWN;
}

static int lm_kind_of(const char *s)
{
    for (int v = NTLM_LM_ABSENT; v <= NTLM_LM_LM; v++)
        if (!strcmp(ntlm_lm_kind_name((enum ntlm_lm_kind)v), s))
            return v;
    return NTLM_LM_ABSENT;
}

/* dcerpc.auth_level: a name (MS-RPCE 2.2.1.1.8) or the number when the writer knew no name. */
static uint8_t auth_level_of(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 && json_integer_value(v) <= 255 ? (uint8_t)json_integer_value(v) : 0;
    const char *s = json_string_value(v);
    for (unsigned l = 0; s && l < 256; l++) {
        const char *n = dcerpc_auth_level_name((uint8_t)l);
        if (n && !strcmp(n, s))
            return (uint8_t)l;
    }
    return 0;
}

static const struct {
    const char *name;
    enum verdict_source v;
} verdict_names[] = {
    {"session_setup", VERDICT_SESSION_SETUP}, {"http_status", VERDICT_HTTP_STATUS}, {"bind_ack", VERDICT_BIND_ACK},
    {"bind_nak", VERDICT_BIND_NAK},           {"first_call", VERDICT_FIRST_CALL},   {"ldap_bind", VERDICT_LDAP_BIND},
};

static enum verdict_source verdict_of(const char *s)
{
    for (size_t i = 0; s && i < sizeof verdict_names / sizeof *verdict_names; i++)
        if (!strcmp(verdict_names[i].name, s))
            return verdict_names[i].v;
    return VERDICT_NONE;
}

/* Kerberos TicketFlags by name (RFC 4120 5.3; unnamed bits "bitN"), bit 0 = 0x80000000. */
static uint32_t ticket_flags_of(const json_t *a)
{
    uint32_t v = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s)
            continue;
        for (int b = 0; b < 32; b++) {
            const char *n = krb_ticket_flag_name(b);
            char un[8];
            if (!n) {
                snprintf(un, sizeof un, "bit%d", b);
                n = un;
            }
            if (!strcmp(n, s)) {
                v |= 0x80000000u >> b;
                break;
            }
        }
    }
    return v;
}

static bool has_name(const json_t *a, const char *name)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s && !strcmp(s, name))
            return true;
    }
    return false;
}

/*
 * A status object {"name", "code"} back into its space: the JSON says the name and code but not the space, so
 * the first of the candidate spaces (those the record's transport can answer in) that names code as the record
 * does is it; when none does (an unknown code, written as its hex), the first candidate. false when the object
 * is not a status.
 */
static bool status_of(const json_t *o, const enum status_space *cand, size_t n, struct hs_status *out)
{
    const char *name = str_at(o, "name");
    const json_t *code = json_object_get(o, "code");
    uint32_t c;
    if (!name || !n)
        return false;
    if (json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) <= 0xFFFFFFFF)
        c = (uint32_t)json_integer_value(code);
    else if (!hex32(json_string_value(code), &c))
        return false;
    *out = hs_status_of(cand[0], c);
    for (size_t i = 0; i < n; i++) {
        const char *k = hs_status_name(hs_status_of(cand[i], c));
        if (k && !strcmp(k, name)) {
            out->space = cand[i];
            break;
        }
    }
    return true;
}

static const enum status_space SPACES_SMB2[] = {STATUS_NTSTATUS, STATUS_KERBEROS};
static const enum status_space SPACES_SMB1[] = {STATUS_NTSTATUS, STATUS_DOS, STATUS_KERBEROS};
static const enum status_space SPACES_HTTP[] = {STATUS_HTTP, STATUS_KERBEROS};
static const enum status_space SPACES_LDAP[] = {STATUS_LDAP, STATUS_KERBEROS};
static const enum status_space SPACES_DCERPC[] = {STATUS_NCA,   STATUS_RPC_REJECT, STATUS_RPC_CONTEXT, STATUS_HRESULT,
                                                  STATUS_WIN32, STATUS_KERBEROS,   STATUS_NTSTATUS};
static const enum status_space SPACES_CALL[] = {STATUS_HRESULT, STATUS_WIN32, STATUS_NCA};
static const enum status_space SPACES_OTHER[] = {STATUS_NTSTATUS, STATUS_KERBEROS};

/* Is a use's status a refusal? As the correlation stage decides it for records (correlate.c refused()). */
static bool refusal(struct hs_status s)
{
    uint32_t c = s.code;
    switch (s.space) {
    case STATUS_NTSTATUS:
        return (c & 0xC0000000u) == 0xC0000000u;
    case STATUS_NCA:
        return true;
    case STATUS_HTTP:
        return c == 401 || c == 403;
    case STATUS_HRESULT:
        return c == 0x80070005u || c == 0x80041003u || c == 0x8001011bu || c == 0x8000401bu;
    case STATUS_WIN32:
        return c == 5;
    default:
        return false;
    }
}

/* ---- warnings, sensors, origins ------------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static void warn(struct recjson *r, const char *file, uint64_t lineno,
                                                       const char *fmt, ...)
{
    if (!r->warn || r->warned++ >= RECJSON_WARN_MAX)
        return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char f[96];
    size_t i = 0;
    for (; file && file[i] && i + 1 < sizeof f; i++) /* no terminal control bytes from a file name */
        f[i] = (unsigned char)file[i] < 0x20 || file[i] == 0x7f ? '?' : file[i];
    f[i] = '\0';
    fprintf(r->warn, "hopscope: %s:%llu: %s\n", f, (unsigned long long)lineno, msg);
}

static const char *intern(struct recjson *r, const char *s, size_t max)
{
    return strpool_get(&r->c->strings, s, max);
}

/* A sensor's name as kept: at most RECJSON_SENSOR_NAME_MAX bytes, cut at a UTF-8 character boundary, control
 * bytes as "?" and bytes that are not UTF-8 as "?" (a file name may be anything). */
static void sensor_clean(const char *s, char out[RECJSON_SENSOR_NAME_MAX + 1])
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o < RECJSON_SENSOR_NAME_MAX;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = k > 0 && c != 0xC0 && c != 0xC1 && c < 0xF5;
        for (size_t j = 1; ok && j < k; j++)
            ok = ((unsigned char)s[i + j] & 0xC0) == 0x80;
        if (!ok || c < 0x20 || c == 0x7f) {
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + k > RECJSON_SENSOR_NAME_MAX)
            break;
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
}

#define SENSOR_SLOTS (2 * RECJSON_SENSORS_MAX)

/* The interned name a record's sensor is known by: its `sensor`, else the file it came from. Only the first
 * RECJSON_SENSORS_MAX distinct names are kept (interned); records of others are said to be of "...". */
static const char *sensor_of(struct recjson *r, const char *name)
{
    if (r->last_as && !strcmp(r->last_raw, name))
        return r->last_as;
    char clean[RECJSON_SENSOR_NAME_MAX + 1];
    sensor_clean(name, clean);
    if (!clean[0])
        snprintf(clean, sizeof clean, "-");
    uint32_t h = 2166136261u;
    for (const char *p = clean; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    size_t i = h & (SENSOR_SLOTS - 1);
    while (r->sensors[i] && strcmp(r->sensors[i], clean) != 0)
        i = (i + 1) & (SENSOR_SLOTS - 1);
    const char *s = r->sensors[i];
    if (!s) {
        if (r->n_sensors == RECJSON_SENSORS_MAX) {
            r->st.sensors_over_cap++;
            return "..."; /* not remembered: the next record of this name counts again */
        }
        s = intern(r, clean, RECJSON_SENSOR_NAME_MAX);
        if (!s[0])
            return "-"; /* the pool is out of memory */
        r->sensors[i] = s;
        r->st.sensors = ++r->n_sensors;
    }
    if (strlen(name) < sizeof r->last_raw) {
        memcpy(r->last_raw, name, strlen(name) + 1);
        r->last_as = s;
    }
    return s;
}

static bool push(void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n < *cap)
        return true;
    size_t nc = *cap ? 2 * *cap : 256;
    void *na = realloc(*arr, nc * size);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

/* The next internal id, remembering where it came from; 0 without memory. */
static uint64_t new_id(struct recjson *r, uint64_t id, const char *sensor, uint32_t idx, bool kdc)
{
    void *arr = r->origin;
    bool ok = push(&arr, &r->n_origin, &r->cap_origin, sizeof *r->origin);
    r->origin = arr;
    if (!ok)
        return 0;
    r->origin[r->n_origin] = (struct origin){id, sensor, NULL, idx, kdc, 0};
    return ++r->n_origin;
}

static const struct origin *origin_of(const struct recjson *r, uint64_t internal)
{
    return internal && internal <= r->n_origin ? &r->origin[internal - 1] : NULL;
}

/* ---- auth records ----------------------------------------------------------------------------------- */

/* Is use u (a tree connect, HTTP request or DCE/RPC call object of a record of s's transport) refused? Then
 * s names it, as summarize_auth() does: frames, name and status. */
static bool use_refused(struct recjson *r, struct fsum_auth *s, const json_t *u)
{
    const char *name_key = s->transport == TRANSPORT_HTTP     ? "path"
                           : s->transport == TRANSPORT_DCERPC ? "op"
                                                              : "share";
    struct hs_status st;
    bool have = false;
    if (s->transport == TRANSPORT_HTTP) {
        uint64_t code;
        if ((have = uint_at(u, "status", &code) && code <= 0xFFFFFFFF))
            st = hs_status_of(STATUS_HTTP, (uint32_t)code);
    } else if (s->transport == TRANSPORT_DCERPC) {
        const char *res = str_at(u, "result");
        bool fault = res && !strcmp(res, "fault");
        have = fault ? status_of(obj_at(u, "status"), SPACES_CALL + 2, 1, &st)
                     : status_of(obj_at(u, "status"), SPACES_CALL, 2, &st);
    } else {
        have = status_of(obj_at(u, "status"), s->transport == TRANSPORT_SMB2 ? SPACES_SMB2 : SPACES_SMB1,
                         s->transport == TRANSPORT_SMB2 ? 1 : 2, &st);
    }
    if (!have || !refusal(st))
        return false;
    const json_t *fr = arr_at(u, "frames");
    const json_t *f0 = json_array_get(fr, 0), *f1 = json_array_get(fr, 1);
    s->use_denied = true;
    s->f_use_req = json_is_integer(f0) && json_integer_value(f0) > 0 ? (uint64_t)json_integer_value(f0) : 0;
    s->f_use_resp = json_is_integer(f1) && json_integer_value(f1) > 0 ? (uint64_t)json_integer_value(f1) : 0;
    s->use_name = intern(r, str_or_empty(u, name_key), 95);
    s->use_status = st;
    return true;
}

/* The first refused use of the record (a tree connect, HTTP request or DCE/RPC call), as summarize_auth() takes
 * it: frames, name and status. Returns its index + 1, or 0. */
static uint32_t first_refused_use(struct recjson *r, struct fsum_auth *s, const json_t *o)
{
    const json_t *uses = NULL;
    switch (s->transport) {
    case TRANSPORT_SMB2: uses = arr_at(obj_at(o, "smb2"), "tree_connects"); break;
    case TRANSPORT_SMB1: uses = arr_at(obj_at(o, "smb1"), "tree_connects"); break;
    case TRANSPORT_HTTP: uses = arr_at(obj_at(o, "http"), "requests"); break;
    case TRANSPORT_DCERPC: uses = arr_at(obj_at(o, "dcerpc"), "calls"); break;
    default: return 0;
    }
    for (size_t i = 0; i < json_array_size(uses) && i < UINT32_MAX - 1; i++)
        if (use_refused(r, s, json_array_get(uses, i)))
            return (uint32_t)i + 1;
    return 0;
}

/* ---- the index of auth records by sensor and id ------------------------------------------------------------ */

static size_t auth_slot(const char *sensor, uint64_t id, size_t cap)
{
    uint64_t h = (id ^ (uint64_t)(uintptr_t)sensor * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Remembers auth record `internal` (its sensor and id in r->origin); nothing without memory (its uses are then
 * not found: counted as unmatched). */
static void auth_ix_put(struct recjson *r, uint64_t internal)
{
    if (2 * (r->n_auth_ix + 1) > r->cap_auth_ix) {
        size_t nc = r->cap_auth_ix ? 2 * r->cap_auth_ix : 1024;
        uint64_t *nv = calloc(nc, sizeof *nv);
        if (!nv)
            return;
        for (size_t i = 0; i < r->cap_auth_ix; i++) {
            uint64_t v = r->auth_ix[i];
            if (!v)
                continue;
            const struct origin *og = &r->origin[v - 1];
            size_t j = auth_slot(og->sensor, og->id, nc);
            while (nv[j])
                j = (j + 1) & (nc - 1);
            nv[j] = v;
        }
        free(r->auth_ix);
        r->auth_ix = nv;
        r->cap_auth_ix = nc;
    }
    const struct origin *og = &r->origin[internal - 1];
    size_t j = auth_slot(og->sensor, og->id, r->cap_auth_ix);
    while (r->auth_ix[j]) {
        const struct origin *x = &r->origin[r->auth_ix[j] - 1];
        if (x->sensor == og->sensor && x->id == og->id) { /* the id again (a sensor restarted): the latest wins */
            r->auth_ix[j] = internal;
            return;
        }
        j = (j + 1) & (r->cap_auth_ix - 1);
    }
    r->auth_ix[j] = internal;
    r->n_auth_ix++;
}

/* The auth record `id` of sensor (interned), or NULL. */
static struct origin *auth_ix_get(struct recjson *r, const char *sensor, uint64_t id)
{
    if (!r->cap_auth_ix)
        return NULL;
    for (size_t j = auth_slot(sensor, id, r->cap_auth_ix); r->auth_ix[j]; j = (j + 1) & (r->cap_auth_ix - 1)) {
        struct origin *x = &r->origin[r->auth_ix[j] - 1];
        if (x->sensor == sensor && x->id == id)
            return x;
    }
    return NULL;
}

/* SMB1: the client signs, the server's first message after the logon carries no MAC, and no use followed. */
static void smb1_unsigned(struct fsum_auth *s, const json_t *o)
{
    const json_t *smb1 = obj_at(o, "smb1"), *sg = obj_at(smb1, "signing");
    if (!is_true(sg, "client_enabled") || is_true(sg, "signed_after") || json_array_size(arr_at(smb1, "tree_connects")))
        return;
    const json_t *sigs = arr_at(sg, "signatures");
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        const json_t *e = json_array_get(sigs, i);
        const char *from = str_at(e, "from"), *kind = str_at(e, "signature");
        if (from && !strcmp(from, "server") && kind && strcmp(kind, "mac") != 0) {
            s->smb1_unsigned_reply = true;
            s->f_smb1_unsigned = frame_at(e, "frame");
            return;
        }
    }
}

/* The ticket table's entry for a digest, if a KDC reply read so far named its client. */
static const struct ticket_info *ticket(struct recjson *r, const char *digest)
{
    const struct ticket_info *ti = tickets_get(&r->c->tickets, digest);
    return ti && ti->client[0] ? ti : NULL;
}

static enum recjson_kind read_auth(struct recjson *r, const json_t *o, const char *sensor, uint64_t id,
                                   const struct timeval *ts, const char *file, uint64_t lineno)
{
    uint8_t caf, cli[16], srv[16];
    uint16_t cport, sport;
    if (!endpoints(o, &caf, cli, &cport, srv, &sport)) {
        warn(r, file, lineno, "auth record %llu without a valid client and server", (unsigned long long)id);
        return RECJSON_MALFORMED;
    }
    const char *tr = str_at(o, "transport"), *res = str_at(o, "result");
    int transport = tr ? transport_of(tr) : -1, result = res ? result_of(res) : -1;
    if (transport < 0 || result < 0) {
        warn(r, file, lineno, "auth record %llu without a known transport and result", (unsigned long long)id);
        return RECJSON_MALFORMED;
    }
    r->st.auth++;
    struct hs_correlate *c = r->c;
    struct fsum_auth *s = correlate_add_auth(c);
    if (!s) /* beyond the summary cap: counted by the stage (summaries_dropped) */
        return RECJSON_AUTH;
    uint64_t internal = new_id(r, id, sensor, (uint32_t)(c->n_auth - 1), false);
    if (!internal) {
        c->n_auth--;
        r->st.not_kept++;
        return RECJSON_AUTH;
    }
    s->id = internal;
    s->ts = *ts;
    s->af = caf;
    memcpy(s->cli, cli, 16);
    memcpy(s->srv, srv, 16);
    s->cport = cport;
    s->sport = sport;
    s->transport = (enum auth_transport)transport;
    s->result = (enum auth_result)result;
    s->service = intern(r, str_or_empty(o, "service"), 31);
    s->mech = mech_of(str_or_empty(o, "mechanism"));
    static const struct {
        const enum status_space *v;
        size_t n;
    } spaces[] = {
        [TRANSPORT_SMB2] = {SPACES_SMB2, 2}, [TRANSPORT_HTTP] = {SPACES_HTTP, 2},
        [TRANSPORT_SMB1] = {SPACES_SMB1, 3}, [TRANSPORT_DCERPC] = {SPACES_DCERPC, 7},
        [TRANSPORT_LDAP] = {SPACES_LDAP, 2}, [TRANSPORT_OTHER] = {SPACES_OTHER, 2},
    };
    if (!status_of(obj_at(o, "status"), spaces[transport].v, spaces[transport].n, &s->status))
        s->status = hs_status_of(STATUS_NONE, 0);
    const json_t *ntlm = obj_at(o, "ntlm"), *krb = obj_at(o, "kerberos"), *dce = obj_at(o, "dcerpc");
    const json_t *names = obj_at(obj_at(o, "server"), "names");
    if (transport == TRANSPORT_DCERPC) {
        s->verdict_source = verdict_of(str_at(dce, "verdict_from"));
        s->dcerpc_auth_level = auth_level_of(json_object_get(dce, "auth_level"));
        s->cli_netlogon = intern(r, str_or_empty(dce, "netlogon_computer"), 31);
    }
    /* who: as auth_who() (record.c) says it, from the same parts of the record */
    char who[128];
    const char *nuser = str_at(ntlm, "user");
    const char *tdigest = str_at(obj_at(krb, "ticket"), "digest");
    const char *tclient = str_or_empty(krb, "client");
    bool user_is_client = false;
    const json_t *ldap = obj_at(o, "ldap");
    if (nuser) {
        snprintf(who, sizeof who, "%s\\%s", str_or_empty(ntlm, "domain"), nuser);
    } else if (s->mech == AMECH_BASIC) {
        snprintf(who, sizeof who, "%s", str_or_empty(obj_at(o, "basic"), "user"));
    } else if (s->mech == AMECH_NETLOGON && s->cli_netlogon[0]) {
        snprintf(who, sizeof who, "%s\\%s$", str_or_empty(dce, "netlogon_domain"),
                 str_or_empty(dce, "netlogon_computer"));
    } else if (transport == TRANSPORT_LDAP && !strcmp(str_or_empty(ldap, "auth"), "simple")) {
        snprintf(who, sizeof who, "%s", str_or_empty(ldap, "bind_dn"));
    } else {
        snprintf(who, sizeof who, "%s", tclient);
        user_is_client = true;
    }
    s->user = intern(r, who, 127);
    if (nuser) {
        s->ntlm = true;
        s->ntlm_version = ntlm_version_of(str_or_empty(ntlm, "response_type"));
        s->lm_kind = lm_kind_of(str_or_empty(ntlm, "lm_response"));
        s->anonymous = s->ntlm_version == NTLM_VER_ANONYMOUS || !nuser[0];
        s->cli_workstation = intern(r, str_or_empty(ntlm, "workstation"), 31);
        s->srv_target = intern(r, str_or_empty(ntlm, "spn"), 95);
    }
    const json_t *fx = obj_at(ntlm, "flags_hex");
    uint32_t fl;
    if (hex32(str_at(fx, "authenticate"), &fl) || hex32(str_at(fx, "challenge"), &fl) ||
        hex32(str_at(fx, "negotiate"), &fl))
        s->ntlm_flags = fl;
    s->srv_dns = intern(r, str_or_empty(names, "dns_computer"), 63);
    s->srv_nb = intern(r, str_or_empty(names, "nb_computer"), 31);
    const json_t *ver = obj_at(ntlm, "verification");
    if (is_true(ver, "account_found")) {
        s->creds_verified = is_true(ver, "nt_response_verified") || is_true(ver, "lm_response_verified");
        s->creds_dc_lm = is_true(ver, "dc_has_lm_hash");
        const json_t *cs = obj_at(obj_at(ntlm, "signing"), "client");
        if ((s->f_sig = frame_at(cs, "frame")) != 0)
            s->sig_matched = intern(r, str_at(cs, "matched") ? str_at(cs, "matched") : "none", 31);
    }
    if (transport == TRANSPORT_SMB2 || transport == TRANSPORT_SMB1) {
        const json_t *tc = arr_at(obj_at(o, transport == TRANSPORT_SMB2 ? "smb2" : "smb1"), "tree_connects");
        s->tree = intern(r, str_or_empty(json_array_get(tc, 0), "share"), 95);
    }
    if (is_true(krb, "ap_req") || is_true(krb, "krb_error")) {
        s->krb = true;
        s->krb_spn = intern(r, str_or_empty(krb, "spn"), 127);
        s->ticket_issued_frame = frame_at(obj_at(krb, "ticket"), "issued_frame");
        s->krb_error = is_true(krb, "krb_error");
        const json_t *ec = json_object_get(obj_at(krb, "error"), "code");
        if (json_is_integer(ec) && json_integer_value(ec) >= INT32_MIN && json_integer_value(ec) <= INT32_MAX)
            s->krb_error_code = (int32_t)json_integer_value(ec);
        const json_t *dec = obj_at(krb, "decrypted"), *dt = obj_at(dec, "ticket"), *da = obj_at(dec, "authenticator");
        s->dec_ticket_failed =
            dt && json_is_false(json_object_get(dt, "decrypted")) && !strncmp(str_or_empty(dt, "why"), "none of", 7);
        if (is_true(da, "decrypted")) {
            s->dec_auth = true;
            s->deleg_flag = has_name(arr_at(da, "gss_flags"), kc_gss_flag_name(0x1)); /* GSS_C_DELEG_FLAG */
            s->deleg_tgt = obj_at(da, "delegated") != NULL;
        }
        if (tclient[0]) {
            r->origin[internal - 1].ticket_sensor = sensor; /* linked on its own sensor */
        } else if (is_true(krb, "ap_req") && is_digest(tdigest)) {
            const struct ticket_info *ti = ticket(r, tdigest);
            if (ti) { /* an earlier record (another sensor's KDC reply) names the client */
                r->st.tickets_linked++;
                if (user_is_client)
                    s->user = intern(r, ti->client, 127);
                s->ticket_issued_frame = ti->frame;
                r->origin[internal - 1].ticket_sensor = ti->sensor;
            } else {
                void *arr = r->pa;
                bool ok = push(&arr, &r->n_pa, &r->cap_pa, sizeof *r->pa);
                r->pa = arr;
                if (ok) /* linked at the end, when every KDC reply has been read */
                    r->pa[r->n_pa++] =
                        (struct pending_auth){(uint32_t)(c->n_auth - 1), intern(r, tdigest, 32), user_is_client};
            }
        }
    }
    if (transport == TRANSPORT_SMB1)
        smb1_unsigned(s, o);
    const json_t *fr = obj_at(o, "frames");
    uint64_t f[6] = {frame_at(fr, "negotiate"), frame_at(fr, "challenge"), frame_at(fr, "authenticate"),
                     frame_at(fr, "ap_req"),    frame_at(fr, "ap_rep"),    frame_at(fr, "verdict")};
    s->f_auth = f[2] ? f[2] : f[3];
    for (size_t i = 0; i < 6; i++)
        if (f[i] && (!s->f_first || f[i] < s->f_first))
            s->f_first = f[i];
    s->f_verdict = f[5];
    r->origin[internal - 1].denied_use = first_refused_use(r, s, o);
    auth_ix_put(r, internal);
    return RECJSON_AUTH;
}

/*
 * A `use` record of a streaming sensor (docs/RECORDS.md, "Streaming"): the tree connect, request or call it
 * holds counts as element `index` of its auth record's uses, as if the record had carried it — the first refused
 * use, the first tree, SMB1's "no use followed". A use whose auth record was not read before is counted in
 * uses_unmatched and changes nothing.
 */
static enum recjson_kind read_use(struct recjson *r, const json_t *o, const char *sensor, const char *file,
                                  uint64_t lineno, bool pending)
{
    uint64_t aid = 0, index = 0;
    if (!uint_at(o, "auth", &aid) || !aid || !uint_at(o, "index", &index) || index >= UINT32_MAX - 1) {
        warn(r, file, lineno, "use record without a valid auth and index");
        return RECJSON_MALFORMED;
    }
    r->st.uses++;
    struct origin *og = auth_ix_get(r, sensor, aid);
    if (!og || og->kdc || og->idx >= r->c->n_auth) {
        if (!pending && r->n_pu < RECJSON_USES_PENDING_MAX) { /* its record may come in a later file */
            void *arr = r->pu;
            bool ok = push(&arr, &r->n_pu, &r->cap_pu, sizeof *r->pu);
            r->pu = arr;
            if (ok) {
                r->pu[r->n_pu++] = (struct pending_use){sensor, json_incref((json_t *)o)};
                r->st.uses--; /* counted when taken */
                return RECJSON_USE;
            }
        }
        r->st.uses_unmatched++;
        return RECJSON_USE;
    }
    struct fsum_auth *s = &r->c->auth[og->idx];
    const char *key = s->transport == TRANSPORT_HTTP     ? "request"
                      : s->transport == TRANSPORT_DCERPC ? "call"
                      : s->transport == TRANSPORT_SMB2 || s->transport == TRANSPORT_SMB1 ? "tree_connect"
                                                                                          : NULL;
    const json_t *u = key ? obj_at(o, key) : NULL;
    if (!u)
        return RECJSON_USE;
    if (s->transport == TRANSPORT_SMB1) { /* a use followed the logon */
        s->smb1_unsigned_reply = false;
        s->f_smb1_unsigned = 0;
    }
    if ((s->transport == TRANSPORT_SMB2 || s->transport == TRANSPORT_SMB1) && index == 0)
        s->tree = intern(r, str_or_empty(u, "share"), 95);
    if (!og->denied_use || index + 1 < og->denied_use) { /* the first refused one, by index */
        struct fsum_auth keep = *s;
        if (use_refused(r, s, u))
            og->denied_use = (uint32_t)index + 1;
        else
            *s = keep;
    }
    return RECJSON_USE;
}

/* ---- kerberos records ---------------------------------------------------------------------------------- */

/* Whom the issued ticket is for, when the reply did not say (FAST's anonymous cname, correlate.c
 * effective_client()): the evidence ticket's holder (S4U2Proxy), else the TGT's holder; "" if not known yet. */
static const char *derived_client(const struct pending_kdc *p)
{
    if (p->kind == KDC_KIND_S4U2PROXY)
        return p->addl ? "" : p->addl_client ? p->addl_client : "";
    if (p->kind == KDC_KIND_S4U2SELF)
        return "";
    return p->tgt ? "" : p->tgt_client ? p->tgt_client : "";
}

static void put_ticket(struct recjson *r, const char *digest, const char *client, const char *sname, uint64_t frame,
                       enum kdc_kind kind, const char *sensor)
{
    struct ticket_info ti;
    memset(&ti, 0, sizeof ti);
    strlcpy_n(ti.digest, sizeof ti.digest, digest, 32);
    strlcpy_n(ti.client, sizeof ti.client, client, sizeof ti.client - 1);
    strlcpy_n(ti.sname, sizeof ti.sname, sname, sizeof ti.sname - 1);
    strlcpy_n(ti.kind, sizeof ti.kind, kdc_kind_name(kind), sizeof ti.kind - 1);
    ti.frame = frame;
    ti.sensor = sensor;
    tickets_put(&r->c->tickets, &ti);
}

/* Names what the tickets of pending exchange p still lack from the ticket table; true when something was. */
static bool pending_kdc_link(struct recjson *r, struct pending_kdc *p)
{
    bool any = false;
    struct fsum_kdc *s = &r->c->kdc[p->idx];
    const struct ticket_info *ti;
    if (p->tgt && (ti = ticket(r, p->tgt))) {
        p->tgt = NULL;
        p->tgt_client = intern(r, ti->client, 255);
        r->st.tickets_linked++;
        if (p->cname_from_tgt)
            s->cname = intern(r, ti->client, 127);
        any = true;
    }
    if (p->addl && (ti = ticket(r, p->addl))) {
        p->addl = NULL;
        p->addl_client = intern(r, ti->client, 255);
        r->st.tickets_linked++;
        if (p->imp_from_addl)
            s->impersonated = intern(r, ti->client, 127);
        any = true;
    }
    const char *dc = p->reply ? derived_client(p) : "";
    if (dc[0]) {
        put_ticket(r, p->reply, dc, p->reply_sname, p->reply_frame, p->kind, p->sensor);
        p->reply = NULL;
        any = true;
    }
    p->done = !p->tgt && !p->addl && !p->reply;
    return any;
}

/* A ticket reference {"digest", "client", ...}: its digest when the client is not named there, else NULL;
 * *client the client named (or ""). */
static const char *ref_unnamed(const json_t *ref, const char **client)
{
    *client = str_or_empty(ref, "client");
    const char *d = str_at(ref, "digest");
    return !(*client)[0] && is_digest(d) ? d : NULL;
}

static enum recjson_kind read_kdc(struct recjson *r, const json_t *o, const char *sensor, uint64_t id,
                                  const struct timeval *ts, const char *file, uint64_t lineno)
{
    uint8_t caf, cli[16], srv[16];
    uint16_t cport, sport;
    if (!endpoints(o, &caf, cli, &cport, srv, &sport)) {
        warn(r, file, lineno, "kerberos record %llu without a valid client and server", (unsigned long long)id);
        return RECJSON_MALFORMED;
    }
    const char *ks = str_at(o, "kind"), *res = str_at(o, "result");
    int kind = ks ? kdc_kind_of(ks) : -1;
    if (kind < 0 || !res) {
        warn(r, file, lineno, "kerberos record %llu without a known kind and a result", (unsigned long long)id);
        return RECJSON_MALFORMED;
    }
    r->st.kerberos++;
    struct hs_correlate *c = r->c;
    struct fsum_kdc *s = correlate_add_kdc(c);
    if (!s) /* beyond the summary cap: counted by the stage (summaries_dropped) */
        return RECJSON_KERBEROS;
    uint64_t internal = new_id(r, id, sensor, (uint32_t)(c->n_kdc - 1), true);
    if (!internal) {
        c->n_kdc--;
        r->st.not_kept++;
        return RECJSON_KERBEROS;
    }
    s->id = internal;
    s->ts = *ts;
    s->af = caf;
    memcpy(s->cli, cli, 16);
    memcpy(s->srv, srv, 16);
    s->cport = cport;
    s->sport = sport;
    s->udp = !strcmp(str_or_empty(o, "transport"), "udp");
    s->kind = (enum kdc_kind)kind;
    s->cname = intern(r, str_or_empty(o, "cname"), 127);
    s->sname = intern(r, str_or_empty(o, "sname"), 127);
    s->impersonated = intern(r, str_or_empty(obj_at(o, "impersonated"), "user"), 127);
    s->failed = !strcmp(res, "failure");
    const json_t *ec = json_object_get(obj_at(o, "error"), "code");
    if (json_is_integer(ec) && json_integer_value(ec) >= INT32_MIN && json_integer_value(ec) <= INT32_MAX)
        s->error_code = (int32_t)json_integer_value(ec);
    const json_t *fr = obj_at(o, "frames");
    s->f_req = frame_at(fr, "request");
    s->f_rep = frame_at(fr, "reply");
    const json_t *rep = obj_at(obj_at(o, "decrypted"), "reply");
    if (is_true(rep, "decrypted")) {
        s->reply_decrypted = true;
        s->reply_flags = ticket_flags_of(arr_at(rep, "flags"));
    }
    /* tickets: what this sensor could not name, another sensor's KDC reply may (correlate.c on_kdc()) */
    const json_t *tk = obj_at(o, "tickets");
    struct pending_kdc p;
    memset(&p, 0, sizeof p);
    p.idx = (uint32_t)(c->n_kdc - 1);
    p.sensor = sensor;
    p.kind = s->kind;
    const char *from = str_or_empty(o, "cname_from");
    p.cname_from_tgt =
        strcmp(from, "tgt") != 0 && !(!strcmp(from, "request") && !strcmp(str_or_empty(o, "request"), "AS-REQ"));
    const char *tgt_client, *addl_client, *reply_client;
    const char *tgt = ref_unnamed(obj_at(tk, "tgt"), &tgt_client);
    const char *addl = ref_unnamed(json_array_get(arr_at(tk, "additional"), 0), &addl_client);
    p.imp_from_addl = s->kind == KDC_KIND_S4U2PROXY && !s->impersonated[0];
    p.tgt = tgt ? intern(r, tgt, 32) : NULL;
    p.addl = addl && s->kind == KDC_KIND_S4U2PROXY ? intern(r, addl, 32) : NULL;
    p.tgt_client = tgt_client[0] ? intern(r, tgt_client, 255) : NULL;
    p.addl_client = addl_client[0] ? intern(r, addl_client, 255) : NULL;
    const json_t *reply = obj_at(tk, "reply");
    const char *rd = str_at(reply, "digest");
    reply_client = str_or_empty(reply, "client");
    uint64_t rframe = frame_at(reply, "issued_frame");
    if (!rframe)
        rframe = s->f_rep;
    if (is_digest(rd) && reply_client[0]) {
        put_ticket(r, rd, reply_client, str_or_empty(reply, "sname"), rframe, s->kind, sensor);
    } else if (is_digest(rd)) {
        p.reply = intern(r, rd, 32);
        p.reply_sname = intern(r, str_or_empty(reply, "sname"), 255);
        p.reply_frame = rframe;
    }
    if (p.tgt || p.addl || p.reply) {
        pending_kdc_link(r, &p);
        if (!p.done) {
            void *arr = r->pk;
            bool ok = push(&arr, &r->n_pk, &r->cap_pk, sizeof *r->pk);
            r->pk = arr;
            if (ok)
                r->pk[r->n_pk++] = p;
        }
    }
    return RECJSON_KERBEROS;
}

/* ---- lines ------------------------------------------------------------------------------------------------ */

enum recjson_kind recjson_line(struct recjson *r, const char *line, size_t len, const char *file, uint64_t lineno,
                               json_t **obj)
{
    if (obj)
        *obj = NULL;
    r->st.lines++;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return RECJSON_SKIPPED; /* an empty line */
    json_error_t err;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(o)) {
        r->st.malformed++;
        warn(r, file, lineno, o ? "not a JSON object" : "not JSON: %s", err.text);
        json_decref(o);
        return RECJSON_MALFORMED;
    }
    const char *type = str_at(o, "type");
    enum recjson_kind k = RECJSON_SKIPPED;
    if (!type) {
        r->st.other_types++;
    } else if (!strcmp(type, "stats")) {
        r->st.stats++;
    } else if (!strcmp(type, "finding")) {
        r->st.findings++;
    } else if (!strcmp(type, "use")) {
        const char *sn = str_at(o, "sensor");
        k = read_use(r, o, sensor_of(r, sn && sn[0] ? sn : file ? file : "-"), file, lineno, false);
        if (k == RECJSON_MALFORMED)
            r->st.malformed++;
    } else if (!strcmp(type, "auth") || !strcmp(type, "kerberos") || !strcmp(type, "dcom")) {
        uint64_t id = 0;
        struct timeval ts;
        if (!uint_at(o, "id", &id) || !id || !parse_ts(str_at(o, "ts"), &ts)) {
            warn(r, file, lineno, "%s record without a valid id and ts", type);
            k = RECJSON_MALFORMED;
        } else {
            const char *sn = str_at(o, "sensor");
            const char *sensor = sensor_of(r, sn && sn[0] ? sn : file ? file : "-");
            if (type[0] == 'a')
                k = read_auth(r, o, sensor, id, &ts, file, lineno);
            else if (type[0] == 'k')
                k = read_kdc(r, o, sensor, id, &ts, file, lineno);
            else
                k = RECJSON_DCOM; /* the rules need nothing of it; counted, and handed back for --expect */
            if (k == RECJSON_DCOM)
                r->st.dcom++;
        }
        if (k == RECJSON_MALFORMED)
            r->st.malformed++;
    } else {
        r->st.other_types++;
    }
    if (obj && k <= RECJSON_DCOM)
        *obj = o;
    else
        json_decref(o);
    return k;
}

int recjson_read(struct recjson *r, FILE *f, const char *name, void (*each)(void *arg, json_t *obj), void *arg)
{
    if (!r->buf && !(r->buf = malloc(RECJSON_LINE_MAX))) {
        errno = ENOMEM;
        return -1;
    }
    uint64_t lineno = 0;
    size_t n = 0;
    bool over = false;
    int ch;
    for (;;) {
        ch = getc_unlocked(f);
        if (ch != EOF && ch != '\n') {
            if (n < RECJSON_LINE_MAX)
                r->buf[n++] = (char)ch;
            else
                over = true;
            continue;
        }
        if (ch == EOF && n == 0 && !over)
            break;
        lineno++;
        if (over) {
            r->st.lines++;
            r->st.too_long++;
            r->st.malformed++;
            warn(r, name, lineno, "longer than %u bytes: skipped", RECJSON_LINE_MAX);
        } else {
            json_t *o = NULL;
            recjson_line(r, r->buf, n, name, lineno, each ? &o : NULL);
            if (o) {
                each(arg, o);
                json_decref(o);
            }
        }
        n = 0;
        over = false;
        if (ch == EOF)
            break;
    }
    return ferror(f) ? -1 : 0;
}

void recjson_file_done(struct recjson *r)
{
    r->st.files++;
}

/* ---- findings as the sensors see them --------------------------------------------------------------------- */

static int ref_cmp(const void *a, const void *b)
{
    const struct finding_sensor_ref *x = a, *y = b;
    int c = strcmp(x->sensor, y->sensor);
    return c ? c : x->n < y->n ? -1 : x->n > y->n;
}

static void add_ref(struct finding_sensor_ref *v, uint32_t *n, uint32_t cap, const char *sensor, uint64_t num)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i].sensor == sensor && v[i].n == num)
            return;
    if (*n < cap)
        v[(*n)++] = (struct finding_sensor_ref){sensor, num};
}

/* Which of the frames of f are internal record id's, and of which capture: its own, or (the issuing KDC reply's
 * frame of an AP-REQ's ticket) the sensor whose reply issued the ticket. */
static void frames_of_record(const struct recjson *r, const struct hs_finding *f, uint64_t internal,
                             struct finding_sensors *out)
{
    const struct origin *o = origin_of(r, internal);
    if (!o)
        return;
    uint64_t mine[8] = {0};
    const char *tsensor = NULL;
    uint64_t tframe = 0;
    if (o->kdc) {
        const struct fsum_kdc *k = &r->c->kdc[o->idx];
        mine[0] = k->f_req, mine[1] = k->f_rep;
    } else {
        const struct fsum_auth *a = &r->c->auth[o->idx];
        uint64_t v[8] = {a->f_first,    a->f_auth,          a->f_verdict, a->f_use_req,
                         a->f_use_resp, a->f_smb1_unsigned, a->f_sig,     0};
        memcpy(mine, v, sizeof mine);
        tframe = a->ticket_issued_frame;
        tsensor = o->ticket_sensor ? o->ticket_sensor : o->sensor;
    }
    for (uint32_t i = 0; i < f->nframes; i++) {
        for (size_t j = 0; j < 8; j++)
            if (mine[j] && mine[j] == f->frames[i])
                add_ref(out->frames, &out->nframes, FINDING_SENSOR_FRAMES_MAX, o->sensor, f->frames[i]);
        if (tframe && tframe == f->frames[i])
            add_ref(out->frames, &out->nframes, FINDING_SENSOR_FRAMES_MAX, tsensor, f->frames[i]);
    }
}

/* f's evidence as the sensors wrote it: record ids into g (a copy of f), the sensors into s. */
static void translate(const struct recjson *r, const struct hs_finding *f, struct hs_finding *g,
                      struct finding_sensors *s)
{
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < f->nrecords; i++) {
        const struct origin *o = origin_of(r, f->records[i]);
        if (o)
            add_ref(s->records, &s->nrecords, FINDING_EVIDENCE_MAX, o->sensor, o->id);
        frames_of_record(r, f, f->records[i], s);
    }
    /* a frame no record claims (none should be): the first record's sensor's */
    const struct origin *first = f->nrecords ? origin_of(r, f->records[0]) : NULL;
    for (uint32_t i = 0; i < f->nframes && first; i++) {
        bool found = false;
        for (uint32_t j = 0; j < s->nframes && !found; j++)
            found = s->frames[j].n == f->frames[i];
        if (!found)
            add_ref(s->frames, &s->nframes, FINDING_SENSOR_FRAMES_MAX, first->sensor, f->frames[i]);
    }
    qsort(s->records, s->nrecords, sizeof *s->records, ref_cmp);
    qsort(s->frames, s->nframes, sizeof *s->frames, ref_cmp);
    if (g != f)
        *g = *f;
    g->nrecords = s->nrecords;
    for (uint32_t i = 0; i < s->nrecords; i++)
        g->records[i] = s->records[i].n;
    g->sensors = s;
}

static void stage_finding(struct hs_sink *self, const struct hs_finding *f)
{
    const struct recjson *r = ((struct origin_stage *)self)->r;
    struct hs_finding g;
    struct finding_sensors s;
    translate(r, f, &g, &s);
    sink_finding(self->next, &g);
}

/* The graph's record ids and findings as the sensors wrote them (once). */
static void fix_graph(struct recjson *r)
{
    struct hop_graph *g = r->c->graph;
    if (r->graph_fixed || !g)
        return;
    r->graph_fixed = true;
    for (size_t i = 0; i < g->n_edges; i++) {
        struct graph_edge *e = &g->edges[i];
        const struct origin *o = origin_of(r, e->id), *v = origin_of(r, e->via);
        if (o) {
            e->id = o->id;
            e->sensor = o->sensor;
        }
        if (v) {
            e->via = v->id;
            e->via_sensor = v->sensor;
        }
    }
    r->graph_sensors = calloc(g->n_findings ? g->n_findings : 1, sizeof *r->graph_sensors);
    for (size_t i = 0; r->graph_sensors && i < g->n_findings; i++) {
        struct finding_sensors *s = malloc(sizeof *s);
        if (!s)
            break;
        r->graph_sensors[r->n_graph_sensors++] = s;
        struct hs_finding *f = &g->findings[i].f;
        translate(r, f, f, s);
    }
}

/* ---- the reader ------------------------------------------------------------------------------------------ */

struct recjson *recjson_new(struct hs_sink *next, uint32_t hop_window, bool want_graph, FILE *warn_to)
{
    struct recjson *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sensors = calloc(SENSOR_SLOTS, sizeof *r->sensors);
    r->stage.sink.finding = stage_finding;
    r->stage.sink.next = next;
    r->stage.r = r;
    r->c = r->sensors ? correlate_new(&r->stage.sink) : NULL;
    if (!r->c) {
        free(r->sensors);
        free(r);
        return NULL;
    }
    if (hop_window)
        r->c->cfg.hop_window = hop_window;
    r->c->want_graph = want_graph;
    r->warn = warn_to;
    return r;
}

void recjson_end(struct recjson *r, const struct hs_stats *st, const struct decode_stats *dec)
{
    /* the uses read before their records, now that every record was read */
    for (size_t i = 0; i < r->n_pu; i++) {
        read_use(r, r->pu[i].o, r->pu[i].sensor, NULL, 0, true);
        json_decref(r->pu[i].o);
    }
    r->n_pu = 0;
    /* KDC exchanges first (a TGT named late names its TGS exchange's issued ticket, which may be the ticket an
     * AP-REQ carries), a few rounds for chains through several sensors, then the AP-REQs */
    for (int round = 0; round < 8; round++) {
        bool any = false;
        for (size_t i = 0; i < r->n_pk; i++)
            if (!r->pk[i].done)
                any |= pending_kdc_link(r, &r->pk[i]);
        if (!any)
            break;
    }
    for (size_t i = 0; i < r->n_pa; i++) {
        const struct ticket_info *ti = ticket(r, r->pa[i].digest);
        if (!ti)
            continue;
        struct fsum_auth *s = &r->c->auth[r->pa[i].idx];
        r->st.tickets_linked++;
        if (r->pa[i].user_is_client)
            s->user = intern(r, ti->client, 127);
        s->ticket_issued_frame = ti->frame;
        r->origin[s->id - 1].ticket_sensor = ti->sensor;
    }
    r->st.not_kept += r->c->summaries_dropped;
    r->c->summaries_dropped = 0;
    struct hs_stats with = *st;
    with.input = &r->st;
    struct hs_stats_view v = {.st = &with, .dec = dec}; /* the closing record: findings come before it */
    sink_stats(&r->c->sink, &v);
    sink_end(&r->c->sink);
    fix_graph(r);
}

const struct records_input_stats *recjson_stats(const struct recjson *r)
{
    return &r->st;
}

const struct hop_graph *recjson_graph(const struct recjson *r)
{
    return r->c->graph;
}

struct hs_correlate *recjson_correlate(struct recjson *r)
{
    return r->c;
}

void recjson_free(struct recjson *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_graph_sensors; i++)
        free(r->graph_sensors[i]);
    free(r->graph_sensors);
    correlate_free(r->c);
    free(r->origin);
    free(r->auth_ix);
    for (size_t i = 0; i < r->n_pu; i++)
        json_decref(r->pu[i].o);
    free(r->pu);
    free(r->pa);
    free(r->pk);
    free(r->sensors);
    free(r->buf);
    free(r);
}

/* Limits on what grows with input, and the counters every stage adds to (the closing `stats` record). */
#ifndef HOPSCOPE_STATS_H
#define HOPSCOPE_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* Malformed-message counters, one per parser (the stats record's "malformed" object). A new parser adds
 * one line here and one in the writers' stats table. */
enum hs_malformed {
    DIS_NBSS = 0,
    DIS_SMB1,
    DIS_SMB2,
    DIS_HTTP,
    DIS_SPNEGO,
    DIS_NTLMSSP,
    DIS_KERBEROS,
    DIS_DCERPC,
    DIS_LDAP,
    DIS_NTLMSSP_FIELDS,     /* NTLMSSP AUTHENTICATE fields dropped: before the payload or overlapping (MS-NLMP 2.2.1.3) */
    DIS_NTLMSSP_ODD_UTF16,  /* NTLMSSP AUTHENTICATE Unicode names of odd length */
    DIS_COUNT
};

/* What a run on records read (hopscope --records; the stats record's "records_input" object, docs/RECORDS.md).
 * Counts of lines and records. */
struct records_input_stats {
    uint64_t files;              /* inputs read ("-" counts once) */
    uint64_t lines;              /* lines read, empty ones included */
    uint64_t auth, kerberos, dcom; /* records read, by type */
    uint64_t uses;               /* `use` records read (a streaming sensor's) */
    uint64_t uses_unmatched;     /* ... whose auth record was not read before them: nothing taken of them */
    uint64_t stats, findings;    /* `stats` and `finding` lines: not records, skipped */
    uint64_t other_types;        /* JSON objects of another or no `type`: skipped */
    uint64_t malformed;          /* lines that are not a JSON object, or a record missing a field the rules
                                    need or holding it with the wrong type: skipped */
    uint64_t too_long;           /* lines longer than RECJSON_LINE_MAX bytes: skipped (also in malformed) */
    uint64_t not_kept;           /* records beyond the correlation stage's summary cap: read but not judged */
    uint64_t tickets_linked;     /* Kerberos tickets whose client only another record named (another sensor's
                                    KDC reply, or one read later) */
    uint64_t sensors;            /* distinct sensor names */
    uint64_t sensors_over_cap;   /* records of sensors beyond RECJSON_SENSORS_MAX names, attributed to "..." */
};

/* Caps on what grows with input; what is dropped at a cap is counted in stats. */
struct hs_limits {
    uint32_t max_flows;          /* live connections (LRU eviction beyond) */
    uint32_t idle_timeout;       /* seconds without packets before a connection expires */
    uint32_t max_ooo_bytes;      /* out-of-order bytes queued per direction */
    uint64_t max_ooo_total;      /* out-of-order bytes queued in all */
    uint32_t max_pdu;            /* bytes a stream may buffer for one PDU (headers, blobs) */
    uint32_t max_records_per_conn;
    uint32_t max_uses_per_record; /* tree connects / HTTP requests kept per record */
    uint64_t max_pdu_total;      /* bytes buffered for PDUs straddling segments, in all streams */
    uint32_t max_records_total;  /* authentication records held, in all connections */
    uint32_t max_kdc_pending_total; /* KDC requests awaiting a reply, in all connections */
    uint64_t max_memory;         /* bytes connections may hold in all (engine.h: engine_memory()); the least
                                  * recently seen are evicted beyond */
};

/* Default limits (documented in docs/ARCHITECTURE.md). */
void hs_limits_default(struct hs_limits *l);

struct hs_stats {
    uint64_t packets, bytes;
    uint64_t tcp_packets, udp_packets;
    uint64_t flows;              /* connections created */
    uint64_t flows_expired, flows_evicted;
    uint64_t memory_evicted;     /* connections evicted to keep within max_memory */
    uint64_t time_steps_back;    /* a packet stamped earlier than the one before it */
    uint64_t time_steps_forward; /* a packet stamped more than the idle timeout after the one before it */
    uint64_t tcp_gaps, tcp_gap_bytes, tcp_retransmitted, tcp_overlaps, tcp_conflicts, tcp_out_of_order;
    uint64_t ooo_dropped_bytes;  /* out-of-order data discarded at a cap (becomes a gap) */
    uint64_t pdu_oversize;       /* PDUs larger than max_pdu (skipped, stream resynchronised) */
    uint64_t partial_at_close;   /* directions that ended inside a message (buffered or its body skipped) */
    uint64_t malformed[DIS_COUNT];
    uint64_t records, records_dropped, uses_dropped;
    /* what a cap made happen early (nothing lost outright; stats `capped`) */
    uint64_t records_written_early; /* auth records written before their session ended, to make room
                                       (max_records_per_conn, max_records_total): later uses are not in them */
    uint64_t kdc_written_early;  /* KDC requests written unanswered, to make room (16 per connection,
                                    max_kdc_pending_total): a reply that comes later is a record of its own */
    uint64_t closed_forgotten;   /* closed connections forgotten before their linger (beyond
                                    ENGINE_CLOSED_MAX): a late retransmission opens a new connection */
    uint64_t kdc_records;
    uint64_t krb_undecrypted;    /* tickets no loaded key opened (only with -k) */
    uint64_t smb2_encrypted;     /* SMB2 TRANSFORM messages skipped */
    bool interrupted;            /* a signal ended the reading before the end of the input */
    const struct records_input_stats *input; /* hopscope --records: what was read (the stats record's
                                                records_input); NULL in a run on packets */
};

/* A live capture's own counters (pcap_stats), per interface and summed: the stats record's `capture`. */
#define HS_CAPTURE_IFACES_MAX 16
struct hs_capture_iface {
    const char *name;            /* the interface, as given to -i */
    uint64_t received;           /* ps_recv: packets the kernel's filter passed (on Linux, dropped ones included) */
    uint64_t kernel_drops;       /* ps_drop: dropped for lack of room in the kernel buffer */
    uint64_t interface_drops;    /* ps_ifdrop: dropped by the interface or its driver */
};
struct hs_capture_stats {
    uint64_t received, kernel_drops, interface_drops; /* the sums over the interfaces */
    unsigned n;
    struct hs_capture_iface ifs[HS_CAPTURE_IFACES_MAX];
};

#endif

/* DCE/RPC names: interfaces by UUID, operations by opnum, statuses — C706, MS-RPCE, and each interface's spec. */
#ifndef HOPSCOPE_DCERPC_NAMES_H
#define HOPSCOPE_DCERPC_NAMES_H

#include <stdint.h>

#include "util.h"

/* A known interface: its UUID (in the canonical text form's byte order, i.e. as printed), name, and the
 * operations hopscope names (a struct tok by opnum; NULL when none are listed). */
struct dcerpc_if {
    const char *uuid;      /* "12345778-1234-abcd-ef00-0123456789ac" */
    uint16_t ver_major;    /* 0xffff: any version */
    const char *name;      /* "samr" */
    const struct tok *ops;
};

/* The interface whose UUID is the 16 wire bytes at u (a GUID: Data1-3 little-endian in NDR little-endian
 * data representation, big-endian when le is false) and major version vmaj; NULL when unknown. */
const struct dcerpc_if *dcerpc_if_find(const uint8_t u[16], int le, uint16_t vmaj);

/* Formats the 16 wire bytes of a GUID (byte order as for dcerpc_if_find) into out[37]. */
void dcerpc_uuid_str(const uint8_t u[16], int le, char out[37]);

/* The name of operation opnum of iface, or NULL. */
const char *dcerpc_op_name(const struct dcerpc_if *iface, uint16_t opnum);

/* The name of a COM class by its CLSID (16 wire bytes, byte order as for dcerpc_if_find): "WbemLevel1Login",
 * "ShellWindows", "ShellBrowserWindow", "MMC20.Application", "Excel.Application", ...; NULL when unknown. */
const char *dcom_clsid_name(const uint8_t u[16], int le);

/* The protocol sequence of a tower id (MS-DCOM 2.2.19.3, C706 Appendix I): "ncacn_ip_tcp", "ncacn_np",
 * "ncadg_ip_udp", "ncacn_http", "ncalrpc", ...; NULL when unknown. */
const char *dcom_tower_name(uint16_t tower_id);

/* sec_trailer auth_type (MS-RPCE 2.2.1.1.7): "none", "spnego", "ntlmssp", "schannel", "kerberos",
 * "netlogon", ...; NULL when unknown. */
const char *dcerpc_auth_type_name(uint8_t t);

/* auth_level (MS-RPCE 2.2.1.1.8): "none", "connect", "call", "pkt", "integrity", "privacy"; NULL if unknown. */
const char *dcerpc_auth_level_name(uint8_t l);

/* PDU type (C706 12.6.4): "request", "bind", "auth3", ...; NULL when unknown. */
const char *dcerpc_ptype_name(uint8_t t);

#endif

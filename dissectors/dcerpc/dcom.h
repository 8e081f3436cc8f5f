/* DCOM inside DCE/RPC stubs — MS-DCOM 2.2 (ORPCTHIS/ORPCTHAT, OBJREF, activation properties, DUALSTRINGARRAY),
 * MS-WMI 3.1.4 (the strings of IWbemLevel1Login and IWbemServices calls). */
#ifndef HOPSCOPE_DCOM_H
#define HOPSCOPE_DCOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Extents (ORPC_EXTENT) and activation properties read at most; more are malformed (MS-DCOM allows a
 * handful: 2.2.21.3 says at most 10 properties). */
#define DCOM_EXTENTS_MAX 16
#define DCOM_PROPS_MAX 16

/* ORPCTHIS (MS-DCOM 2.2.13.1): version (COMVERSION 2.2.11), flags (ORPCF_*), causality id, extents. */
struct dcom_orpcthis {
    uint16_t ver_major, ver_minor;
    uint32_t flags;
    uint8_t cid[16];
    uint32_t extents;        /* non-NULL extents */
};

/* ORPCTHAT (MS-DCOM 2.2.13.2): flags, extents. */
struct dcom_orpcthat {
    uint32_t flags;
    uint32_t extents;
};

/*
 * ORPCTHIS at the start of the n-byte NDR stub p (little-endian data representation when le, else big).
 * Returns the bytes it took (what follows starts there, 4-aligned), or -1 when the stub is shorter than it
 * says, an extent array's size disagrees with its conformance, or there are more than DCOM_EXTENTS_MAX
 * extents.
 */
long dcom_orpcthis_parse(const uint8_t *p, size_t n, bool le, struct dcom_orpcthis *o);

/* ORPCTHAT at the start of a response stub; returns and fails as dcom_orpcthis_parse. */
long dcom_orpcthat_parse(const uint8_t *p, size_t n, bool le, struct dcom_orpcthat *o);

/* The DCOM calls whose stubs hopscope reads beyond ORPCTHIS/ORPCTHAT. */
enum dcom_call {
    DCOM_CALL_NONE = 0,
    DCOM_GET_CLASS_OBJECT,   /* IRemoteSCMActivator (ISystemActivator) RemoteGetClassObject, opnum 3 */
    DCOM_CREATE_INSTANCE,    /* ... RemoteCreateInstance, opnum 4 */
    DCOM_REMOTE_ACTIVATION,  /* IActivation RemoteActivation, opnum 0 */
    DCOM_RESOLVE_OXID,       /* IObjectExporter ResolveOxid, opnum 0 (no ORPCTHIS: not an ORPC interface) */
    DCOM_RESOLVE_OXID2,      /* ... ResolveOxid2, opnum 4 */
    DCOM_SERVER_ALIVE2,      /* ... ServerAlive2, opnum 5 */
    DCOM_WMI_NTLM_LOGIN,     /* IWbemLevel1Login NTLMLogin, opnum 6 (MS-WMI 3.1.4.1.4) */
    DCOM_WMI_OPEN_NAMESPACE, /* IWbemServices OpenNamespace, opnum 3 */
    DCOM_WMI_GET_OBJECT,     /* ... GetObject(Async), opnums 6, 7 */
    DCOM_WMI_INSTANCE_ENUM,  /* ... CreateInstanceEnum(Async), opnums 18, 19 */
    DCOM_WMI_EXEC_QUERY,     /* ... ExecQuery(Async), ExecNotificationQuery(Async), opnums 20-23 */
    DCOM_WMI_EXEC_METHOD,    /* ... ExecMethod(Async), opnums 24, 25 */
};

/* The call opnum of the interface named iface_name (dcerpc_names.c spelling) is, or DCOM_CALL_NONE. */
enum dcom_call dcom_call_of(const char *iface_name, uint16_t opnum);

/* Does the call's stub start with ORPCTHIS/ORPCTHAT although its request has no object UUID? (The
 * activators: their methods take ORPCTHIS as first parameter, MS-DCOM 3.1.2.5.2.) */
bool dcom_call_has_orpc(enum dcom_call k);

/* Is the call an activation or OXID resolution (one that makes a `dcom` record)? */
bool dcom_call_is_activation(enum dcom_call k);

/* What a request stub said. */
struct dcom_req {
    bool have_orpcthis;
    struct dcom_orpcthis orpcthis;
    bool have_clsid;
    uint8_t clsid[16];       /* little-endian GUID wire bytes */
    const char *detail_kind; /* "namespace", "object_path", "class", "query", "method"; NULL: none */
    char detail[192];        /* UTF-8, cut to fit */
};

/*
 * Reads the request stub p[0..n) of call k (le: data representation), ORPCTHIS first when `orpc`.
 * For activations the CLSID asked for: RemoteCreateInstance / RemoteGetClassObject's InstantiationInfoData
 * classId (MS-DCOM 2.2.22.2.1) inside the activation properties blob (2.2.22) of an OBJREF_CUSTOM
 * (2.2.18.6), RemoteActivation's Clsid (3.1.2.5.1.1); for WMI the namespace (NTLMLogin, OpenNamespace), the
 * object path (GetObject), the WQL text (ExecQuery), `path.method` (ExecMethod). Returns 0 when read, -1
 * when malformed (what was read before the fault stays in out).
 */
int dcom_request(enum dcom_call k, bool orpc, const uint8_t *p, size_t n, bool le, struct dcom_req *out);

/* What a response stub said. */
struct dcom_resp {
    bool have_orpcthat;
    struct dcom_orpcthat orpcthat;
    bool have_status;
    struct hs_status status; /* the call's HRESULT (ORPC methods) or error_status_t (IObjectExporter) */
    struct dcom_binding bindings[DCOM_BINDINGS_MAX];
    uint8_t n_bindings;
    bool bindings_cut;
};

/*
 * Reads the response stub p[0..n) of call k, ORPCTHAT first when `orpc`. The status is the stub's last 4
 * bytes (an ORPC method's HRESULT, an IObjectExporter method's error_status_t; for RemoteActivation its
 * phr when non-zero); the string bindings are those of ScmReplyInfoData's remoteReply (MS-DCOM 2.2.22.2.8)
 * for RemoteCreateInstance / RemoteGetClassObject, or the DUALSTRINGARRAY the OXID resolver returned.
 * Returns 0 when read, -1 when malformed (what was read stays in out).
 */
int dcom_response(enum dcom_call k, bool orpc, const uint8_t *p, size_t n, bool le, struct dcom_resp *out);

/*
 * Reads a DUALSTRINGARRAY (MS-DCOM 2.2.19.1) as NDR marshals it (conformance first: max_count u32,
 * wNumEntries u16, wSecurityOffset u16, aStringArray) at p[0..n): its string bindings (2.2.19.3) into
 * out[0..max) — tower id, aNetworkAddr as UTF-8, the port in brackets and an address literal parsed.
 * Returns the bytes it took, or -1 when the counts disagree, wSecurityOffset is past wNumEntries, a string
 * is not terminated inside the string bindings, or n is short. *nout is set to the bindings kept, *cut when
 * more did not fit.
 */
long dcom_dualstringarray(const uint8_t *p, size_t n, bool le, struct dcom_binding *out, size_t max, uint8_t *nout,
                          bool *cut);

/* Is an HRESULT an access refusal (E_ACCESSDENIED, WBEM_E_ACCESS_DENIED, RPC_E_ACCESS_DENIED,
 * CO_E_LAUNCH_PERMSSION_DENIED)? */
bool dcom_hresult_denied(uint32_t hr);

#endif

/* DCE/RPC names — C706 12.6 and Appendix E, MS-RPCE 2.2, and the interface specs (MS-SAMR, MS-LSAD, MS-NRPC,
 * MS-SCMR, MS-RRP, MS-SRVS, MS-WKST, MS-DRSR, MS-TSCH, MS-EVEN, MS-DCOM, MS-WMI, MS-CMRP, MS-RPRN). */
#include "dcerpc_names.h"

#include <stdio.h>
#include <string.h>

static const struct tok epm_ops[] = {
    {0, "ept_insert"}, {1, "ept_delete"}, {2, "ept_lookup"}, {3, "ept_map"}, {4, "ept_lookup_handle_free"},
    {5, "ept_inq_object"}, {6, "ept_mgmt_delete"}, {0, NULL},
};

static const struct tok samr_ops[] = {
    {0, "SamrConnect"}, {1, "SamrCloseHandle"}, {3, "SamrQuerySecurityObject"},
    {5, "SamrLookupDomainInSamServer"}, {6, "SamrEnumerateDomainsInSamServer"}, {7, "SamrOpenDomain"},
    {8, "SamrQueryInformationDomain"}, {11, "SamrEnumerateGroupsInDomain"}, {12, "SamrCreateUserInDomain"},
    {13, "SamrEnumerateUsersInDomain"}, {15, "SamrEnumerateAliasesInDomain"}, {16, "SamrGetAliasMembership"},
    {17, "SamrLookupNamesInDomain"}, {18, "SamrLookupIdsInDomain"}, {19, "SamrOpenGroup"},
    {25, "SamrGetMembersInGroup"}, {27, "SamrOpenAlias"}, {33, "SamrGetMembersInAlias"}, {34, "SamrOpenUser"},
    {36, "SamrQueryInformationUser"}, {37, "SamrSetInformationUser"}, {39, "SamrGetGroupsForUser"},
    {40, "SamrQueryDisplayInformation"}, {44, "SamrGetUserDomainPasswordInformation"},
    {50, "SamrCreateUser2InDomain"}, {55, "SamrUnicodeChangePasswordUser2"}, {56, "SamrGetDomainPasswordInformation"},
    {57, "SamrConnect2"}, {58, "SamrSetInformationUser2"}, {62, "SamrConnect4"}, {64, "SamrConnect5"},
    {65, "SamrRidToSid"}, {0, NULL},
};

static const struct tok lsarpc_ops[] = {
    {0, "LsarClose"}, {6, "LsarOpenPolicy"}, {7, "LsarQueryInformationPolicy"}, {14, "LsarLookupNames"},
    {15, "LsarLookupSids"}, {44, "LsarOpenPolicy2"}, {45, "LsarGetUserName"}, {46, "LsarQueryInformationPolicy2"},
    {57, "LsarLookupSids2"}, {58, "LsarLookupNames2"}, {68, "LsarLookupNames3"}, {76, "LsarLookupSids3"},
    {77, "LsarLookupNames4"}, {0, NULL},
};

static const struct tok netlogon_ops[] = {
    {2, "NetrLogonSamLogon"}, {3, "NetrLogonSamLogoff"}, {4, "NetrServerReqChallenge"},
    {5, "NetrServerAuthenticate"}, {6, "NetrServerPasswordSet"}, {15, "NetrServerAuthenticate2"},
    {20, "DsrGetDcName"}, {21, "NetrLogonDummyRoutine1"}, {26, "NetrServerAuthenticate3"}, {27, "DsrGetDcNameEx"},
    {28, "DsrGetSiteName"}, {29, "NetrLogonGetDomainInfo"}, {30, "NetrServerPasswordSet2"}, {34, "DsrGetDcNameEx2"},
    {39, "NetrLogonSamLogonEx"}, {40, "DsrEnumerateDomainTrusts"}, {45, "NetrLogonSamLogonWithFlags"},
    {46, "NetrServerGetTrustInfo"}, {0, NULL},
};

static const struct tok svcctl_ops[] = {
    {0, "RCloseServiceHandle"}, {1, "RControlService"}, {2, "RDeleteService"}, {6, "RQueryServiceStatus"},
    {11, "RChangeServiceConfigW"}, {12, "RCreateServiceW"}, {14, "REnumServicesStatusW"}, {15, "ROpenSCManagerW"},
    {16, "ROpenServiceW"}, {17, "RQueryServiceConfigW"}, {19, "RStartServiceW"}, {27, "ROpenSCManagerA"},
    {28, "ROpenServiceA"}, {31, "RStartServiceA"}, {40, "RQueryServiceStatusEx"}, {42, "REnumServicesStatusExW"},
    {0, NULL},
};

static const struct tok winreg_ops[] = {
    {0, "OpenClassesRoot"}, {1, "OpenCurrentUser"}, {2, "OpenLocalMachine"}, {4, "OpenUsers"}, {5, "BaseRegCloseKey"},
    {6, "BaseRegCreateKey"}, {9, "BaseRegEnumKey"}, {10, "BaseRegEnumValue"}, {15, "BaseRegOpenKey"},
    {16, "BaseRegQueryInfoKey"}, {17, "BaseRegQueryValue"}, {20, "BaseRegSaveKey"}, {22, "BaseRegSetValue"},
    {24, "BaseInitiateSystemShutdown"}, {26, "BaseRegGetVersion"}, {0, NULL},
};

static const struct tok srvsvc_ops[] = {
    {15, "NetrShareEnum"}, {16, "NetrShareGetInfo"}, {21, "NetrServerGetInfo"}, {28, "NetrRemoteTOD"},
    {12, "NetrSessionEnum"}, {0, NULL},
};

static const struct tok wkssvc_ops[] = {
    {0, "NetrWkstaGetInfo"}, {2, "NetrWkstaUserEnum"}, {0, NULL},
};

static const struct tok drsuapi_ops[] = {
    {0, "IDL_DRSBind"}, {1, "IDL_DRSUnbind"}, {2, "IDL_DRSReplicaSync"}, {3, "IDL_DRSGetNCChanges"},
    {4, "IDL_DRSUpdateRefs"}, {5, "IDL_DRSReplicaAdd"}, {12, "IDL_DRSCrackNames"}, {13, "IDL_DRSWriteSPN"},
    {16, "IDL_DRSDomainControllerInfo"}, {17, "IDL_DRSAddEntry"}, {0, NULL},
};

static const struct tok atsvc_ops[] = {
    {0, "NetrJobAdd"}, {1, "NetrJobDel"}, {2, "NetrJobEnum"}, {3, "NetrJobGetInfo"}, {0, NULL},
};

static const struct tok tsch_ops[] = {
    {0, "SchRpcHighestVersion"}, {1, "SchRpcRegisterTask"}, {2, "SchRpcRetrieveTask"}, {7, "SchRpcEnumTasks"},
    {12, "SchRpcRun"}, {13, "SchRpcDelete"}, {0, NULL},
};

static const struct tok eventlog_ops[] = {
    {0, "ElfrClearELFW"}, {2, "ElfrCloseEL"}, {7, "ElfrOpenELW"}, {10, "ElfrReadELW"}, {0, NULL},
};

/* DCOM (MS-DCOM 3.1.2.5, 3.1.2.5.1, 3.1.1.5.6): IUnknown's three methods take opnums 0-2 of every ORPC
 * interface; IRemUnknown's own start at 3. */
static const struct tok isystemactivator_ops[] = {
    {3, "RemoteGetClassObject"}, {4, "RemoteCreateInstance"}, {0, NULL},
};

static const struct tok iactivation_ops[] = {
    {0, "RemoteActivation"}, {0, NULL},
};

static const struct tok iobjectexporter_ops[] = {
    {0, "ResolveOxid"}, {1, "SimplePing"}, {2, "ComplexPing"}, {3, "ServerAlive"}, {4, "ResolveOxid2"},
    {5, "ServerAlive2"}, {0, NULL},
};

static const struct tok iremunknown_ops[] = {
    {3, "RemQueryInterface"}, {4, "RemAddRef"}, {5, "RemRelease"}, {6, "RemQueryInterface2"}, {0, NULL},
};

/* MS-WMI 3.1.4.1 (IWbemLevel1Login), 3.1.4.3 (IWbemServices), 3.1.4.6 (IWbemFetchSmartEnum). */
static const struct tok wbemlevel1login_ops[] = {
    {3, "EstablishPosition"}, {4, "RequestChallenge"}, {5, "WBEMLogin"}, {6, "NTLMLogin"}, {0, NULL},
};

static const struct tok wbemservices_ops[] = {
    {3, "OpenNamespace"}, {4, "CancelAsyncCall"}, {5, "QueryObjectSink"}, {6, "GetObject"}, {7, "GetObjectAsync"},
    {8, "PutClass"}, {9, "PutClassAsync"}, {10, "DeleteClass"}, {11, "DeleteClassAsync"}, {12, "CreateClassEnum"},
    {13, "CreateClassEnumAsync"}, {14, "PutInstance"}, {15, "PutInstanceAsync"}, {16, "DeleteInstance"},
    {17, "DeleteInstanceAsync"}, {18, "CreateInstanceEnum"}, {19, "CreateInstanceEnumAsync"}, {20, "ExecQuery"},
    {21, "ExecQueryAsync"}, {22, "ExecNotificationQuery"}, {23, "ExecNotificationQueryAsync"}, {24, "ExecMethod"},
    {25, "ExecMethodAsync"}, {0, NULL},
};

static const struct tok wbemfetchsmartenum_ops[] = {
    {3, "GetSmartEnum"}, {0, NULL},
};

static const struct tok wbemloginclientid_ops[] = {
    {3, "SetClientInfo"}, {0, NULL},
};

static const struct tok wbemcallresult_ops[] = {
    {3, "GetResultObject"}, {4, "GetResultString"}, {5, "GetResultServices"}, {6, "GetCallStatus"}, {0, NULL},
};

static const struct tok enumwbemclassobject_ops[] = {
    {3, "Reset"}, {4, "Next"}, {5, "NextAsync"}, {6, "Clone"}, {7, "Skip"}, {0, NULL},
};

/* MS-OAUT 3.1.4 (IDispatch), MS-DCOM 3.1.1.5.6 / MS-COM IClassFactory. */
static const struct tok idispatch_ops[] = {
    {3, "GetTypeInfoCount"}, {4, "GetTypeInfo"}, {5, "GetIDsOfNames"}, {6, "Invoke"}, {0, NULL},
};

static const struct tok iclassfactory_ops[] = {
    {3, "CreateInstance"}, {4, "LockServer"}, {0, NULL},
};

/* MS-CMRP 3.1.4.1 (clusapi v2) and 3.1.4.2 (v3): the same opnums for the calls named here. */
static const struct tok clusapi_ops[] = {
    {0, "ApiOpenCluster"}, {1, "ApiCloseCluster"}, {2, "ApiSetClusterName"}, {3, "ApiGetClusterName"},
    {4, "ApiGetClusterVersion"}, {5, "ApiGetQuorumResource"}, {6, "ApiSetQuorumResource"},
    {7, "ApiCreateEnum"}, {8, "ApiOpenResource"}, {9, "ApiCreateResource"}, {10, "ApiDeleteResource"},
    {11, "ApiCloseResource"}, {12, "ApiGetResourceState"}, {13, "ApiSetResourceName"}, {14, "ApiGetResourceId"},
    {15, "ApiGetResourceType"}, {16, "ApiFailResource"}, {17, "ApiOnlineResource"}, {18, "ApiOfflineResource"},
    {41, "ApiOpenGroup"}, {42, "ApiCreateGroup"}, {43, "ApiDeleteGroup"}, {44, "ApiCloseGroup"},
    {45, "ApiGetGroupState"}, {49, "ApiOnlineGroup"}, {50, "ApiOfflineGroup"}, {51, "ApiMoveGroup"},
    {52, "ApiMoveGroupToNode"}, {66, "ApiOpenNode"}, {67, "ApiCloseNode"}, {68, "ApiGetNodeState"},
    {69, "ApiPauseNode"}, {70, "ApiResumeNode"}, {71, "ApiEvictNode"}, {72, "ApiNodeResourceControl"},
    {73, "ApiResourceControl"}, {79, "ApiNodeControl"}, {0, NULL},
};

static const struct dcerpc_if interfaces[] = {
    {"e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, "epmapper", epm_ops},
    {"12345778-1234-abcd-ef00-0123456789ac", 1, "samr", samr_ops},
    {"12345778-1234-abcd-ef00-0123456789ab", 0, "lsarpc", lsarpc_ops},
    {"12345678-1234-abcd-ef00-01234567cffb", 1, "netlogon", netlogon_ops},
    {"367abb81-9844-35f1-ad32-98f038001003", 2, "svcctl", svcctl_ops},
    {"338cd001-2244-31f1-aaaa-900038001003", 1, "winreg", winreg_ops},
    {"4b324fc8-1670-01d3-1278-5a47bf6ee188", 3, "srvsvc", srvsvc_ops},
    {"6bffd098-a112-3610-9833-46c3f87e345a", 1, "wkssvc", wkssvc_ops},
    {"e3514235-4b06-11d1-ab04-00c04fc2dcd2", 4, "drsuapi", drsuapi_ops},
    {"1ff70682-0a51-30e8-076d-740be8cee98b", 1, "atsvc", atsvc_ops},
    {"86d35949-83c9-4044-b424-db363231fd0c", 1, "ITaskSchedulerService", tsch_ops},
    {"82273fdc-e32a-18c3-3f78-827929dc23ea", 0, "eventlog", eventlog_ops},
    {"12345678-1234-abcd-ef00-0123456789ab", 1, "spoolss", NULL},
    {"3919286a-b10c-11d0-9ba8-00c04fd92ef5", 0xffff, "dssetup", NULL},
    {"b97db8b2-4c63-11cf-bff6-08002be23f2f", 2, "clusapi", clusapi_ops},
    {"b97db8b2-4c63-11cf-bff6-08002be23f2f", 3, "clusapi", clusapi_ops},
    {"b97db8b2-4c63-11cf-bff6-08002be23f2f", 0xffff, "clusapi", NULL},
    {"000001a0-0000-0000-c000-000000000046", 0xffff, "ISystemActivator", isystemactivator_ops},
    {"4d9f4ab8-7d1c-11cf-861e-0020af6e7c57", 0xffff, "IActivation", iactivation_ops},
    {"99fcfec4-5260-101b-bbcb-00aa0021347a", 0xffff, "IObjectExporter", iobjectexporter_ops},
    {"00000131-0000-0000-c000-000000000046", 0xffff, "IRemUnknown", iremunknown_ops},
    {"00000143-0000-0000-c000-000000000046", 0xffff, "IRemUnknown2", iremunknown_ops},
    {"f309ad18-d86a-11d0-a075-00c04fb68820", 0xffff, "IWbemLevel1Login", wbemlevel1login_ops},
    {"9556dc99-828c-11cf-a37e-00aa003240c7", 0xffff, "IWbemServices", wbemservices_ops},
    {"1c1c45ee-4395-11d2-b60b-00104b703efd", 0xffff, "IWbemFetchSmartEnum", wbemfetchsmartenum_ops},
    {"d4781cd6-e5d3-44df-ad94-930efe48a887", 0xffff, "IWbemLoginClientID", wbemloginclientid_ops},
    {"44aca675-e8fc-11d0-a07c-00c04fb68820", 0xffff, "IWbemCallResult", wbemcallresult_ops},
    {"027947e1-d731-11ce-a357-000000000001", 0xffff, "IEnumWbemClassObject", enumwbemclassobject_ops},
    {"00020400-0000-0000-c000-000000000046", 0xffff, "IDispatch", idispatch_ops},
    {"00000001-0000-0000-c000-000000000046", 0xffff, "IClassFactory", iclassfactory_ops},
    {"00000000-0000-0000-c000-000000000046", 0xffff, "IUnknown", NULL},
    {"afa8bd80-7d8a-11c9-bef4-08002b102989", 0xffff, "mgmt", NULL},
    {"f5cc5a18-4264-101a-8c59-08002b2f8426", 0xffff, "nspi", NULL},
    {"3dde7c30-165d-11d1-ab8f-00805f14db40", 0xffff, "BackupKey", NULL},
    {"8d9f4e40-a03d-11ce-8f69-08003e30051b", 0xffff, "pnp", NULL},
    {NULL, 0, NULL, NULL},
};

void dcerpc_uuid_str(const uint8_t u[16], int le, char out[37])
{
    uint32_t d1 = le ? (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24
                     : (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
    uint32_t d2 = le ? (uint32_t)(u[4] | u[5] << 8) : (uint32_t)(u[4] << 8 | u[5]);
    uint32_t d3 = le ? (uint32_t)(u[6] | u[7] << 8) : (uint32_t)(u[6] << 8 | u[7]);
    /* "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", by hand: it is formatted for every DCE/RPC record */
    char *o = hex_put(out, d1, 8);
    *o++ = '-';
    o = hex_put(o, d2, 4);
    *o++ = '-';
    o = hex_put(o, d3, 4);
    *o++ = '-';
    for (int i = 8; i < 16; i++) {
        if (i == 10)
            *o++ = '-';
        o = hex_put(o, u[i], 2);
    }
    *o = '\0';
}

const struct dcerpc_if *dcerpc_if_find(const uint8_t u[16], int le, uint16_t vmaj)
{
    char s[37];
    dcerpc_uuid_str(u, le, s);
    const struct dcerpc_if *any = NULL;
    for (const struct dcerpc_if *i = interfaces; i->uuid; i++) {
        if (strcmp(i->uuid, s) != 0)
            continue;
        if (i->ver_major == vmaj)
            return i;
        if (!any)
            any = i;
    }
    return any;
}

const char *dcerpc_op_name(const struct dcerpc_if *iface, uint16_t opnum)
{
    if (!iface || !iface->ops)
        return NULL;
    return tok_name(iface->ops, opnum);
}

/* Classes a DCOM activation names (MS-DCOM 2.2.22.2.1 InstantiationInfoData classId): WMI's and those
 * lateral movement uses (ShellWindows, ShellBrowserWindow, MMC20.Application, Office automation). */
static const struct {
    const char *clsid;
    const char *name;
} classes[] = {
    {"8bc3f05e-d86b-11d0-a075-00c04fb68820", "WbemLevel1Login"},
    {"674b6698-ee92-11d0-ad71-00c04fd8fdff", "WbemContext"},
    {"4590f811-1d3a-11d0-891f-00aa004b2e24", "WbemLocator"},
    {"9ba05972-f6a8-11cf-a442-00a0c90a8f39", "ShellWindows"},
    {"c08afd90-f2a1-11d1-8455-00a0c91f3880", "ShellBrowserWindow"},
    {"49b2791a-b1ae-4c90-9b8e-e860ba07f889", "MMC20.Application"},
    {"00024500-0000-0000-c000-000000000046", "Excel.Application"},
    {"000209ff-0000-4b30-a977-d214852036ff", "Word.Application"},
    {"00020906-0000-0000-c000-000000000046", "Word.Document"},
    {"0006f03a-0000-0000-c000-000000000046", "Outlook.Application"},
    {"91493441-5a91-11cf-8700-00aa0060263b", "PowerPoint.Application"},
    {"72c24dd5-d70a-438b-8a42-98424b88afb8", "WScript.Shell"},
    {"f935dc22-1cf0-11d0-adb9-00c04fd58a0b", "WScript.Shell (IWshShell)"},
    {"0002df01-0000-0000-c000-000000000046", "InternetExplorer.Application"},
    {"0f87369f-a4e5-4cfc-bd3e-73e6154572dd", "Schedule.Service"},
    {"e7e4bc40-e76a-11ce-a9bb-00aa004ae837", "ShellFolderView"},
    {"00000338-0000-0000-c000-000000000046", "ActivationPropertiesIn"},
    {"00000339-0000-0000-c000-000000000046", "ActivationPropertiesOut"},
};

const char *dcom_clsid_name(const uint8_t u[16], int le)
{
    char s[37];
    dcerpc_uuid_str(u, le, s);
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (!strcmp(classes[i].clsid, s))
            return classes[i].name;
    return NULL;
}

/* Protocol sequences by tower id (MS-DCOM 2.2.19.3, C706 Appendix I). */
static const struct tok towers[] = {
    {0x04, "ncacn_dnet_nsp"}, {0x07, "ncacn_ip_tcp"}, {0x08, "ncadg_ip_udp"}, {0x09, "ncacn_nb_tcp"},
    {0x0c, "ncacn_spx"}, {0x0d, "ncacn_nb_ipx"}, {0x0e, "ncadg_ipx"}, {0x0f, "ncacn_np"}, {0x10, "ncalrpc"},
    {0x12, "ncacn_nb_nb"}, {0x1f, "ncacn_http"}, {0, NULL},
};

const char *dcom_tower_name(uint16_t t)
{
    return tok_name(towers, t);
}

static const struct tok auth_types[] = {
    {0, "none"}, {1, "kerberos5"}, {9, "spnego"}, {10, "ntlmssp"}, {14, "schannel"}, {16, "kerberos"},
    {17, "dpa"}, {18, "msn"}, {21, "digest"}, {68, "netlogon"}, {100, "msmq"}, {0, NULL},
};

const char *dcerpc_auth_type_name(uint8_t t)
{
    return tok_name(auth_types, t);
}

static const struct tok auth_levels[] = {
    {1, "none"}, {2, "connect"}, {3, "call"}, {4, "pkt"}, {5, "integrity"}, {6, "privacy"}, {0, NULL},
};

const char *dcerpc_auth_level_name(uint8_t l)
{
    return tok_name(auth_levels, l);
}

static const struct tok ptypes[] = {
    {0, "request"}, {2, "response"}, {3, "fault"}, {11, "bind"}, {12, "bind_ack"}, {13, "bind_nak"},
    {14, "alter_context"}, {15, "alter_context_resp"}, {16, "auth3"}, {17, "shutdown"}, {18, "co_cancel"},
    {19, "orphaned"}, {20, "rts"}, {0, NULL},
};

const char *dcerpc_ptype_name(uint8_t t)
{
    return tok_name(ptypes, t);
}

/* Value→name tables for status codes and protocol enumerations (MS-ERREF, MS-SMB2, RFC 9110). */
#include "names.h"

#include "util.h"

/* MS-ERREF 2.3.1: the statuses authentication and share access produce, and common SMB2 ones. */
static const struct tok ntstatus_tab[] = {
    {0x00000000, "STATUS_SUCCESS"},
    {0x00000103, "STATUS_PENDING"},
    {0x0000010B, "STATUS_NOTIFY_CLEANUP"},
    {0x0000010C, "STATUS_NOTIFY_ENUM_DIR"},
    {0x80000005, "STATUS_BUFFER_OVERFLOW"},
    {0x80000006, "STATUS_NO_MORE_FILES"},
    {0xC0000001, "STATUS_UNSUCCESSFUL"},
    {0xC0000002, "STATUS_NOT_IMPLEMENTED"},
    {0xC0000003, "STATUS_INVALID_INFO_CLASS"},
    {0xC0000008, "STATUS_INVALID_HANDLE"},
    {0xC000000D, "STATUS_INVALID_PARAMETER"},
    {0xC000000F, "STATUS_NO_SUCH_FILE"},
    {0xC0000010, "STATUS_INVALID_DEVICE_REQUEST"},
    {0xC0000011, "STATUS_END_OF_FILE"},
    {0xC0000016, "STATUS_MORE_PROCESSING_REQUIRED"},
    {0xC0000022, "STATUS_ACCESS_DENIED"},
    {0xC0000023, "STATUS_BUFFER_TOO_SMALL"},
    {0xC0000033, "STATUS_OBJECT_NAME_INVALID"},
    {0xC0000034, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xC0000035, "STATUS_OBJECT_NAME_COLLISION"},
    {0xC000003A, "STATUS_OBJECT_PATH_NOT_FOUND"},
    {0xC0000043, "STATUS_SHARING_VIOLATION"},
    {0xC0000061, "STATUS_PRIVILEGE_NOT_HELD"},
    {0xC0000064, "STATUS_NO_SUCH_USER"},
    {0xC000006A, "STATUS_WRONG_PASSWORD"},
    {0xC000006C, "STATUS_PASSWORD_RESTRICTION"},
    {0xC000006D, "STATUS_LOGON_FAILURE"},
    {0xC000006E, "STATUS_ACCOUNT_RESTRICTION"},
    {0xC000006F, "STATUS_INVALID_LOGON_HOURS"},
    {0xC0000070, "STATUS_INVALID_WORKSTATION"},
    {0xC0000071, "STATUS_PASSWORD_EXPIRED"},
    {0xC0000072, "STATUS_ACCOUNT_DISABLED"},
    {0xC00000BB, "STATUS_NOT_SUPPORTED"},
    {0xC00000BE, "STATUS_BAD_NETWORK_PATH"},
    {0xC00000C9, "STATUS_NETWORK_NAME_DELETED"},
    {0xC00000CA, "STATUS_NETWORK_ACCESS_DENIED"},
    {0xC00000CC, "STATUS_BAD_NETWORK_NAME"},
    {0xC00000D0, "STATUS_REQUEST_NOT_ACCEPTED"},
    {0xC00000DF, "STATUS_NO_SUCH_DOMAIN"},
    {0xC0000120, "STATUS_CANCELLED"},
    {0xC0000128, "STATUS_FILE_CLOSED"},
    {0xC000015B, "STATUS_LOGON_TYPE_NOT_GRANTED"},
    {0xC000018B, "STATUS_NO_TRUST_SAM_ACCOUNT"},
    {0xC000018D, "STATUS_TRUSTED_RELATIONSHIP_FAILURE"},
    {0xC0000192, "STATUS_NETLOGON_NOT_STARTED"},
    {0xC0000193, "STATUS_ACCOUNT_EXPIRED"},
    {0xC0000198, "STATUS_NOLOGON_INTERDOMAIN_TRUST_ACCOUNT"},
    {0xC0000199, "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT"},
    {0xC000019A, "STATUS_NOLOGON_SERVER_TRUST_ACCOUNT"},
    {0xC000019C, "STATUS_FS_DRIVER_REQUIRED"},
    {0xC0000203, "STATUS_USER_SESSION_DELETED"},
    {0xC0000224, "STATUS_PASSWORD_MUST_CHANGE"},
    {0xC0000225, "STATUS_NOT_FOUND"},
    {0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT"},
    {0xC000035C, "STATUS_NETWORK_SESSION_EXPIRED"},
    {0xC0000388, "STATUS_DOWNGRADE_DETECTED"},
    {0xC000005F, "STATUS_NO_SUCH_LOGON_SESSION"},
    {0xC0000413, "STATUS_AUTHENTICATION_FIREWALL_FAILED"},
    {0xC000005E, "STATUS_NO_LOGON_SERVERS"},
    {0xC0000133, "STATUS_TIME_DIFFERENCE_AT_DC"},
    {0xC0000380, "STATUS_SMARTCARD_WRONG_PIN"},
    {0xC000A000, "STATUS_INVALID_SIGNATURE"},
    {0xC00002FD, "STATUS_KDC_UNKNOWN_ETYPE"},
    {0xC0000205, "STATUS_INSUFF_SERVER_RESOURCES"},
    {0xC000009A, "STATUS_INSUFFICIENT_RESOURCES"},
    {0xC0000017, "STATUS_NO_MEMORY"},
    {0xC00000AC, "STATUS_PIPE_NOT_AVAILABLE"},
    {0xC00000B0, "STATUS_PIPE_DISCONNECTED"},
    {0xC00000B5, "STATUS_IO_TIMEOUT"},
    {0xC0000184, "STATUS_INVALID_DEVICE_STATE"},
    {0xC000020C, "STATUS_CONNECTION_DISCONNECTED"},
    {0x80000014, "STATUS_EA_LIST_INCONSISTENT"},
    {0, NULL},
};

const char *ntstatus_name(uint32_t status)
{
    return tok_name(ntstatus_tab, status);
}

static const struct tok smb2_dialect_tab[] = {
    {0x0202, "2.0.2"}, {0x0210, "2.1"}, {0x0300, "3.0"}, {0x0302, "3.0.2"},
    {0x0311, "3.1.1"}, {0x02FF, "2.???"}, {0, NULL},
};

const char *smb2_dialect_name(uint16_t dialect)
{
    return tok_name(smb2_dialect_tab, dialect);
}

static const struct tok smb2_cmd_tab[] = {
    {0x00, "NEGOTIATE"}, {0x01, "SESSION_SETUP"}, {0x02, "LOGOFF"}, {0x03, "TREE_CONNECT"},
    {0x04, "TREE_DISCONNECT"}, {0x05, "CREATE"}, {0x06, "CLOSE"}, {0x07, "FLUSH"},
    {0x08, "READ"}, {0x09, "WRITE"}, {0x0A, "LOCK"}, {0x0B, "IOCTL"}, {0x0C, "CANCEL"},
    {0x0D, "ECHO"}, {0x0E, "QUERY_DIRECTORY"}, {0x0F, "CHANGE_NOTIFY"}, {0x10, "QUERY_INFO"},
    {0x11, "SET_INFO"}, {0x12, "OPLOCK_BREAK"}, {0, NULL},
};

const char *smb2_command_name(uint16_t cmd)
{
    return tok_name(smb2_cmd_tab, cmd);
}

static const struct tok http_reason_tab[] = {
    {100, "Continue"}, {101, "Switching Protocols"}, {200, "OK"}, {201, "Created"},
    {202, "Accepted"}, {204, "No Content"}, {206, "Partial Content"}, {207, "Multi-Status"},
    {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
    {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"},
    {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
    {407, "Proxy Authentication Required"}, {411, "Length Required"}, {413, "Content Too Large"},
    {415, "Unsupported Media Type"}, {500, "Internal Server Error"}, {501, "Not Implemented"},
    {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"}, {0, NULL},
};

const char *http_reason(uint32_t code)
{
    return tok_name(http_reason_tab, code);
}

/* C706 Appendix E spelling (nca_s_...); MS-RPCE 2.2.2.7 adds the Windows ones. */
static const struct tok nca_status[] = {
    {0x00000001, "nca_s_fault_other"},
    {0x00000005, "nca_s_fault_access_denied"},
    {0x000006d8, "nca_s_fault_cant_perform"},
    {0x000006f7, "nca_s_fault_ndr"},
    {0x00000721, "nca_s_fault_sec_pkg_error"},
    {0x1c000001, "nca_s_fault_int_div_by_zero"},
    {0x1c000002, "nca_s_fault_addr_error"},
    {0x1c000006, "nca_s_fault_invalid_tag"},
    {0x1c000007, "nca_s_fault_invalid_bound"},
    {0x1c000008, "nca_s_rpc_version_mismatch"},
    {0x1c000009, "nca_s_unspec_reject"},
    {0x1c00000a, "nca_s_bad_actid"},
    {0x1c00000b, "nca_s_who_are_you_failed"},
    {0x1c00000c, "nca_s_manager_not_entered"},
    {0x1c00000d, "nca_s_fault_cancel"},
    {0x1c00000e, "nca_s_fault_ill_inst"},
    {0x1c00000f, "nca_s_fault_fp_error"},
    {0x1c000010, "nca_s_fault_int_overflow"},
    {0x1c000012, "nca_s_fault_unspec"},
    {0x1c000013, "nca_s_fault_remote_comm_failure"},
    {0x1c000014, "nca_s_fault_pipe_empty"},
    {0x1c000015, "nca_s_fault_pipe_closed"},
    {0x1c000016, "nca_s_fault_pipe_order"},
    {0x1c000017, "nca_s_fault_pipe_discipline"},
    {0x1c000018, "nca_s_fault_pipe_comm_error"},
    {0x1c000019, "nca_s_fault_pipe_memory"},
    {0x1c00001a, "nca_s_fault_context_mismatch"},
    {0x1c00001b, "nca_s_fault_remote_no_memory"},
    {0x1c00001c, "nca_s_invalid_pres_context_id"},
    {0x1c00001d, "nca_s_unsupported_authn_level"},
    {0x1c00001f, "nca_s_invalid_checksum"},
    {0x1c000020, "nca_s_invalid_crc"},
    {0x1c000021, "nca_s_fault_user_defined"},
    {0x1c000022, "nca_s_fault_tx_open_failed"},
    {0x1c000023, "nca_s_fault_codeset_conv_error"},
    {0x1c000024, "nca_s_fault_object_not_found"},
    {0x1c000025, "nca_s_fault_no_client_stub"},
    {0x1c010002, "nca_s_op_rng_error"},
    {0x1c010003, "nca_s_unk_if"},
    {0x1c010006, "nca_s_wrong_boot_time"},
    {0x1c010009, "nca_s_you_crashed"},
    {0x1c01000b, "nca_s_proto_error"},
    {0x1c010013, "nca_s_out_args_too_big"},
    {0x1c010014, "nca_s_server_too_busy"},
    {0x1c010017, "nca_s_unsupported_type"},
    {0x80010105, "RPC_E_SERVERFAULT"},
    {0x80010108, "RPC_E_DISCONNECTED"},
    {0x80010113, "RPC_E_INVALID_IPID"},
    {0x80070005, "E_ACCESSDENIED"},
    {0, NULL},
};

const char *nca_status_name(uint32_t st)
{
    return tok_name(nca_status, st);
}

static const struct tok reject_reasons[] = {
    {0, "reason_not_specified"}, {1, "temporary_congestion"}, {2, "local_limit_exceeded"},
    {3, "called_paddr_unknown"}, {4, "protocol_version_not_supported"}, {5, "default_context_not_supported"},
    {6, "user_data_not_readable"}, {7, "no_psap_available"}, {8, "authentication_type_not_recognized"},
    {9, "invalid_checksum"}, {0, NULL},
};

const char *rpc_reject_reason_name(uint32_t r)
{
    return tok_name(reject_reasons, r);
}

static const struct tok win32_errors[] = {
    {0, "ERROR_SUCCESS"}, {2, "ERROR_FILE_NOT_FOUND"}, {5, "ERROR_ACCESS_DENIED"}, {6, "ERROR_INVALID_HANDLE"},
    {53, "ERROR_BAD_NETPATH"}, {87, "ERROR_INVALID_PARAMETER"}, {1326, "ERROR_LOGON_FAILURE"},
    {1722, "RPC_S_SERVER_UNAVAILABLE"}, {1727, "RPC_S_CALL_FAILED_DNE"}, {1753, "EPT_S_NOT_REGISTERED"},
    {1825, "RPC_S_SEC_PKG_ERROR"}, {0, NULL},
};

const char *win32_error_name(uint32_t code)
{
    return tok_name(win32_errors, code);
}

/* MS-ERREF 2.1.1 spellings (CO_E_LAUNCH_PERMSSION_DENIED is spelt so there); WMI's from MS-WMI 2.2.11. */
static const struct tok hresults[] = {
    {0x00000000, "S_OK"}, {0x00000001, "S_FALSE"}, {0x80004001, "E_NOTIMPL"}, {0x80004002, "E_NOINTERFACE"},
    {0x80004003, "E_POINTER"}, {0x80004005, "E_FAIL"}, {0x8000ffff, "E_UNEXPECTED"},
    {0x80070005, "E_ACCESSDENIED"}, {0x80070006, "E_HANDLE"}, {0x8007000e, "E_OUTOFMEMORY"},
    {0x80070057, "E_INVALIDARG"}, {0x8007052e, "HRESULT_FROM_WIN32(ERROR_LOGON_FAILURE)"},
    {0x800706ba, "HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)"},
    {0x80010001, "RPC_E_CALL_REJECTED"}, {0x80010105, "RPC_E_SERVERFAULT"}, {0x80010108, "RPC_E_DISCONNECTED"},
    {0x80010113, "RPC_E_INVALID_IPID"}, {0x8001011b, "RPC_E_ACCESS_DENIED"},
    {0x8000401a, "CO_E_RUNAS_LOGON_FAILURE"}, {0x8000401b, "CO_E_LAUNCH_PERMSSION_DENIED"},
    {0x80080005, "CO_E_SERVER_EXEC_FAILURE"}, {0x80040154, "REGDB_E_CLASSNOTREG"},
    {0x80040110, "CLASS_E_NOAGGREGATION"},
    {0x00040004, "WBEM_S_TIMEDOUT"}, {0x00040005, "WBEM_S_NO_MORE_DATA"},
    {0x80041001, "WBEM_E_FAILED"}, {0x80041002, "WBEM_E_NOT_FOUND"}, {0x80041003, "WBEM_E_ACCESS_DENIED"},
    {0x80041004, "WBEM_E_PROVIDER_FAILURE"}, {0x80041008, "WBEM_E_INVALID_PARAMETER"},
    {0x8004100c, "WBEM_E_NOT_SUPPORTED"}, {0x8004100e, "WBEM_E_INVALID_NAMESPACE"},
    {0x80041010, "WBEM_E_INVALID_CLASS"}, {0x80041017, "WBEM_E_INVALID_QUERY"}, {0, NULL},
};

const char *hresult_name(uint32_t code)
{
    return tok_name(hresults, code);
}

static const struct tok context_reasons[] = {
    {0, "reason_not_specified"}, {1, "abstract_syntax_not_supported"},
    {2, "proposed_transfer_syntaxes_not_supported"}, {3, "local_limit_exceeded"}, {0, NULL},
};

const char *rpc_context_reason_name(uint32_t reason)
{
    return tok_name(context_reasons, reason);
}

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

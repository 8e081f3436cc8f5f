/* Value→name tables for status codes and protocol enumerations (MS-ERREF, MS-SMB2, RFC 9110). */
#ifndef HOPSCOPE_NAMES_H
#define HOPSCOPE_NAMES_H

#include <stdint.h>

/* NTSTATUS spelling from MS-ERREF 2.3.1 ("STATUS_LOGON_FAILURE"), or NULL if not in the table. */
const char *ntstatus_name(uint32_t status);

/* SMB2 dialect revision (MS-SMB2 2.2.4) as "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1", "2.???"; NULL if unknown. */
const char *smb2_dialect_name(uint16_t dialect);

/* SMB2 command name (MS-SMB2 2.2.1.2) as "SESSION_SETUP"; NULL if unknown. */
const char *smb2_command_name(uint16_t cmd);

/* HTTP reason phrase (RFC 9110 15) for a status code, e.g. "Unauthorized"; NULL if not listed. */
const char *http_reason(uint32_t code);

/* DCE/RPC fault and reject status (C706 Appendix E spelling, MS-RPCE 2.2.2.7), e.g.
 * "nca_s_fault_access_denied"; NULL if not in the table. */
const char *nca_status_name(uint32_t status);

/* bind_nak provider reject reason (C706 12.6.3.4, MS-RPCE 2.2.2.5), e.g. "authentication_type_not_recognized". */
const char *rpc_reject_reason_name(uint32_t reason);

/* Why a bind_ack rejected a presentation context (C706 12.6.3.1 p_provider_reason_t), e.g.
 * "abstract_syntax_not_supported". */
const char *rpc_context_reason_name(uint32_t reason);

/* Win32 error code (MS-ERREF 2.2), e.g. 5 "ERROR_ACCESS_DENIED"; NULL if not in the table. */
const char *win32_error_name(uint32_t code);

/* HRESULT (MS-ERREF 2.1), e.g. 0x80070005 "E_ACCESSDENIED"; NULL if not in the table. */
const char *hresult_name(uint32_t code);

#endif

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

#endif

/* Keytabs and Kerberos decryption (MIT libkrb5), umbrella header — see keytab.h, krbdecrypt.h and pac.h. */
#ifndef HOPSCOPE_KRBCRYPT_H
#define HOPSCOPE_KRBCRYPT_H

#include "keytab.h"     /* kc_load_keytab, kc_free: keytab files (MIT format) */
#include "krbdecrypt.h" /* kc_decrypt_ticket, kc_decrypt_authenticator: RFC 4120 5.3/5.5.1/5.8, RFC 4121 4.1.1 */
#include "pac.h"        /* kc_parse_pac and its NDR buffers: MS-PAC 2.3-2.10 */

#endif

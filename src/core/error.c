/* Error messages: one buffer per thread, so the library has no shared mutable state
 * and callers read the reason for the last failure with ck_errmsg(). */
#include "core.h"

#include <string.h>

static _Thread_local char last_message[1024];

ck_status ck_fail(ck_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

ck_status ck_fail_prefix(ck_status status, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_message, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof last_message) n = sizeof last_message - 1;
    memcpy(last_message, prefix, n);
    size_t rest = strnlen(old, sizeof old - 1);
    if (rest > sizeof last_message - 1 - n) rest = sizeof last_message - 1 - n;
    memcpy(last_message + n, old, rest);
    last_message[n + rest] = '\0';
    return status;
}

void ck_clear_error(void) { last_message[0] = '\0'; }

const char *ck_errmsg(void) { return last_message; }

const char *ck_status_name(ck_status s)
{
    static const char *const names[] = {
        "CK_OK", "CK_ERR_NOMEM", "CK_ERR_ARG", "CK_ERR_CONFIG", "CK_ERR_SHAPE",
        "CK_ERR_OVERFLOW", "CK_ERR_UNSUPPORTED", "CK_ERR_IO", "CK_ERR_FORMAT",
        "CK_ERR_STATE", "CK_ERR_NUMERIC",
    };
    _Static_assert(CK_N_OF(names) == CK_ERR_NUMERIC + 1, "status names");
    return (unsigned)s <= CK_ERR_NUMERIC ? names[s] : "CK_ERR_UNKNOWN";
}

/* Error messages: one buffer per thread, so the library has no shared mutable state
 * and callers read the reason for the last failure with ck_errmsg(). */
#include "core.h"

#include <string.h>

static _Thread_local char last_message[1024];
static _Thread_local ck_status last_status;

/* A message is one line even when it quotes a file's text: control characters
 * become C escapes ("\n", "\x01"), cut at the buffer's end. */
static void keep_one_line(char *msg, size_t cap)
{
    char out[sizeof last_message];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof out; p++) {
        if (*p >= 0x20 && *p != 0x7f) out[o++] = (char)*p;
        else if (*p == '\n') o += (size_t)snprintf(out + o, sizeof out - o, "\\n");
        else o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *p);
    }
    out[o] = '\0';
    snprintf(msg, cap, "%s", out);
}

ck_status ck_fail(ck_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    keep_one_line(last_message, sizeof last_message);
    last_status = status;
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
    keep_one_line(last_message, sizeof last_message);
    last_status = status;
    return status;
}

void ck_clear_error(void)
{
    last_message[0] = '\0';
    last_status = CK_OK;
}

const char *ck_errmsg(void) { return last_message; }

ck_status ck_errstatus(void) { return last_status; }

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

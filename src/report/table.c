/* Summary table renderer: lays out pre-formatted layer rows as Keras prints them.
 *
 * Keras 3 hands its rows to the Python library rich, so byte-exact output means
 * re-doing rich's work: column widths (ratio_reduce / ratio_distribute), word
 * wrapping that breaks only at whitespace, "…" for words that cannot fit,
 * justification, and terminal cell widths of Unicode text (keras/src/utils/
 * summary_utils.py print_summary; rich's table.py Table._calculate_column_widths,
 * _ratio.py, _wrap.py divide_line, cells.py cell_len). tf.keras 2.13+ uses its
 * own fixed-column row printer (tf_keras/src/utils/layer_utils.py print_summary,
 * its print_row), also here.
 * Text is handled as arrays of code points because both rich and tf.keras
 * count and slice Python str characters, not bytes. No global state: every
 * call builds its result in buffers it owns and returns one malloc'ed string. */
#include "report/table.h"
#include "core/core.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_TABLE_MAXCOLS 5  /* layer, shape, params, connected, trainable */

static const char ERR_OOM[] = "out of memory";
static const char ERR_WIDTH[] = "Insufficient console width to print summary.";
static const char ERR_NPOS[] = "positions has fewer entries than the table has columns";
static const char ERR_POSVAL[] = "positions must be finite and not huge";
static const char ERR_ABSPOS[] = "absolute positions (last value > 1) must be whole numbers";
static const char ERR_K2LEN[] =
    "Insufficient line length to print summary (tf.keras would never finish this row).";
static const char ERR_ARG[] = "invalid argument";

/* ------------------------------------------------------------------ buffers */

/* Growable code point string; `bad` is sticky so callers check once at the end. */
typedef struct cpstr {
    uint32_t *v;
    size_t n;
    int cap;
    int bad;
} cpstr;

/* A list of owned lines, each one cell row of output text. */
typedef struct lines {
    cpstr *v;
    size_t n;
    int cap;
    int bad;
} lines;

static void cs_free(cpstr *s) {
    ck_free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int cs_reserve(cpstr *s, size_t need) {
    if (!s->bad && (need > INT_MAX || ck_grow((void **)&s->v, &s->cap, (int)need, sizeof *s->v))) s->bad = 1;
    return !s->bad;
}

static void cs_push(cpstr *s, uint32_t c) {
    if (cs_reserve(s, s->n + 1)) s->v[s->n++] = c;
}

/* Python's `c * count`: a count <= 0 appends nothing. */
static void cs_rep(cpstr *s, uint32_t c, long long count) {
    for (long long i = 0; i < count; i++) cs_push(s, c);
}

static void cs_append(cpstr *s, const uint32_t *v, size_t n) {
    if (!cs_reserve(s, s->n + n)) return;
    if (n) memcpy(s->v + s->n, v, n * sizeof *v);
    s->n += n;
}

static int cs_has(const uint32_t *v, size_t n, uint32_t c) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == c) return 1;
    return 0;
}

/* Drops `k` code points from the front (str[k:]). */
static void cs_drop_front(cpstr *s, size_t k) {
    if (k >= s->n) {
        s->n = 0;
        return;
    }
    memmove(s->v, s->v + k, (s->n - k) * sizeof *s->v);
    s->n -= k;
}

static void cs_insert_front(cpstr *s, uint32_t c, long long count) {
    if (count <= 0 || !cs_reserve(s, s->n + (size_t)count)) return;
    memmove(s->v + count, s->v, s->n * sizeof *s->v);
    for (long long i = 0; i < count; i++) s->v[i] = c;
    s->n += (size_t)count;
}

static void sb_rep(ck_buf *b, const char *s, long long count) {
    for (long long i = 0; i < count; i++) ck_buf_put(b, s);
}

/* Hands the text to the caller, or frees it and reports out-of-memory. */
static char *sb_finish(ck_buf *b, const char **err) {
    char *text = b->failed ? NULL : ck_buf_take(b);
    if (!text) {
        ck_buf_free(b);
        if (err) *err = ERR_OOM;
    }
    return text;
}

static void ln_push(lines *l, cpstr *s) {
    if (s->bad) l->bad = 1;
    if (!l->bad && (l->n >= INT_MAX || ck_grow((void **)&l->v, &l->cap, (int)l->n + 1, sizeof *l->v))) l->bad = 1;
    if (l->bad) {
        cs_free(s);
        return;
    }
    l->v[l->n++] = *s;
    *s = (cpstr){0};
}

static void ln_free(lines *l) {
    for (size_t i = 0; i < l->n; i++) cs_free(&l->v[i]);
    ck_free(l->v);
    *l = (lines){0};
}

/* -------------------------------------------------------------------- UTF-8 */

/* Bytes that are not valid UTF-8 become U+DC80+byte (Python's surrogateescape)
 * so they survive the round trip unchanged and count as one cell. */
#define RAW_BYTE_BASE 0xDC80u

static size_t utf8_decode1(const unsigned char *p, uint32_t *out) {
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3
               : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) len = 0;
        if (!len) break;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and values past U+10FFFF. */
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) len = 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) len = 0;
    if (!len) {
        *out = RAW_BYTE_BASE + c;
        return 1;
    }
    *out = cp;
    return len;
}

static cpstr cs_from_utf8(const char *z) {
    cpstr s = {0};
    const unsigned char *p = (const unsigned char *)(z ? z : "");
    cs_reserve(&s, strlen((const char *)p) + 1);
    while (*p) {
        uint32_t cp;
        p += utf8_decode1(p, &cp);
        cs_push(&s, cp);
    }
    return s;
}

static void sb_put_cp(ck_buf *b, uint32_t c) {
    char t[4];
    size_t n;
    if (c >= RAW_BYTE_BASE + 0x80 && c <= RAW_BYTE_BASE + 0xFF) {
        t[0] = (char)(c - RAW_BYTE_BASE);
        n = 1;
    } else if (c < 0x80) {
        t[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | c >> 6);
        t[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | c >> 12);
        t[1] = (char)(0x80 | (c >> 6 & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | c >> 18);
        t[1] = (char)(0x80 | (c >> 12 & 0x3F));
        t[2] = (char)(0x80 | (c >> 6 & 0x3F));
        t[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    ck_buf_putn(b, t, n);
}

static void sb_put_cs(ck_buf *b, const cpstr *s) {
    if (s->bad) b->failed = true;
    for (size_t i = 0; i < s->n; i++) sb_put_cp(b, s->v[i]);
}

/* ------------------------------------------------------------ cell widths */

/* Terminal cell widths exactly as rich 14+/15 measures them (its Unicode 17.0
 * table): ranges of width 0 (combining marks, format characters) and width 2
 * (East Asian Wide/Fullwidth, emoji); everything else printable is 1. */
typedef struct wrange {
    uint32_t lo, hi;
    int w;
} wrange;

static const wrange WIDTHS[] = {
    {0x0,0x0,0}, {0x300,0x36F,0}, {0x483,0x489,0}, {0x591,0x5BD,0}, {0x5BF,0x5BF,0},
    {0x5C1,0x5C2,0}, {0x5C4,0x5C5,0}, {0x5C7,0x5C7,0}, {0x610,0x61A,0}, {0x61C,0x61C,0},
    {0x64B,0x65F,0}, {0x670,0x670,0}, {0x6D6,0x6DC,0}, {0x6DF,0x6E4,0}, {0x6E7,0x6E8,0},
    {0x6EA,0x6ED,0}, {0x711,0x711,0}, {0x730,0x74A,0}, {0x7A6,0x7B0,0}, {0x7EB,0x7F3,0},
    {0x7FD,0x7FD,0}, {0x816,0x819,0}, {0x81B,0x823,0}, {0x825,0x827,0}, {0x829,0x82D,0},
    {0x859,0x85B,0}, {0x897,0x89F,0}, {0x8CA,0x8E1,0}, {0x8E3,0x903,0}, {0x93A,0x93C,0},
    {0x93E,0x94F,0}, {0x951,0x957,0}, {0x962,0x963,0}, {0x981,0x983,0}, {0x9BC,0x9BC,0},
    {0x9BE,0x9C4,0}, {0x9C7,0x9C8,0}, {0x9CB,0x9CD,0}, {0x9D7,0x9D7,0}, {0x9E2,0x9E3,0},
    {0x9FE,0x9FE,0}, {0xA01,0xA03,0}, {0xA3C,0xA3C,0}, {0xA3E,0xA42,0}, {0xA47,0xA48,0},
    {0xA4B,0xA4D,0}, {0xA51,0xA51,0}, {0xA70,0xA71,0}, {0xA75,0xA75,0}, {0xA81,0xA83,0},
    {0xABC,0xABC,0}, {0xABE,0xAC5,0}, {0xAC7,0xAC9,0}, {0xACB,0xACD,0}, {0xAE2,0xAE3,0},
    {0xAFA,0xAFF,0}, {0xB01,0xB03,0}, {0xB3C,0xB3C,0}, {0xB3E,0xB44,0}, {0xB47,0xB48,0},
    {0xB4B,0xB4D,0}, {0xB55,0xB57,0}, {0xB62,0xB63,0}, {0xB82,0xB82,0}, {0xBBE,0xBC2,0},
    {0xBC6,0xBC8,0}, {0xBCA,0xBCD,0}, {0xBD7,0xBD7,0}, {0xC00,0xC04,0}, {0xC3C,0xC3C,0},
    {0xC3E,0xC44,0}, {0xC46,0xC48,0}, {0xC4A,0xC4D,0}, {0xC55,0xC56,0}, {0xC62,0xC63,0},
    {0xC81,0xC83,0}, {0xCBC,0xCBC,0}, {0xCBE,0xCC4,0}, {0xCC6,0xCC8,0}, {0xCCA,0xCCD,0},
    {0xCD5,0xCD6,0}, {0xCE2,0xCE3,0}, {0xCF3,0xCF3,0}, {0xD00,0xD03,0}, {0xD3B,0xD3C,0},
    {0xD3E,0xD44,0}, {0xD46,0xD48,0}, {0xD4A,0xD4D,0}, {0xD57,0xD57,0}, {0xD62,0xD63,0},
    {0xD81,0xD83,0}, {0xDCA,0xDCA,0}, {0xDCF,0xDD4,0}, {0xDD6,0xDD6,0}, {0xDD8,0xDDF,0},
    {0xDF2,0xDF3,0}, {0xE31,0xE31,0}, {0xE34,0xE3A,0}, {0xE47,0xE4E,0}, {0xEB1,0xEB1,0},
    {0xEB4,0xEBC,0}, {0xEC8,0xECE,0}, {0xF18,0xF19,0}, {0xF35,0xF35,0}, {0xF37,0xF37,0},
    {0xF39,0xF39,0}, {0xF3E,0xF3F,0}, {0xF71,0xF84,0}, {0xF86,0xF87,0}, {0xF8D,0xF97,0},
    {0xF99,0xFBC,0}, {0xFC6,0xFC6,0}, {0x102B,0x103E,0}, {0x1056,0x1059,0}, {0x105E,0x1060,0},
    {0x1062,0x1064,0}, {0x1067,0x106D,0}, {0x1071,0x1074,0}, {0x1082,0x108D,0},
    {0x108F,0x108F,0}, {0x109A,0x109D,0}, {0x1100,0x115F,2}, {0x1160,0x11FF,0},
    {0x135D,0x135F,0}, {0x1712,0x1715,0}, {0x1732,0x1734,0}, {0x1752,0x1753,0},
    {0x1772,0x1773,0}, {0x17B4,0x17D3,0}, {0x17DD,0x17DD,0}, {0x180B,0x180F,0},
    {0x1885,0x1886,0}, {0x18A9,0x18A9,0}, {0x1920,0x192B,0}, {0x1930,0x193B,0},
    {0x1A17,0x1A1B,0}, {0x1A55,0x1A5E,0}, {0x1A60,0x1A7C,0}, {0x1A7F,0x1A7F,0},
    {0x1AB0,0x1ADD,0}, {0x1AE0,0x1AEB,0}, {0x1B00,0x1B04,0}, {0x1B34,0x1B44,0},
    {0x1B6B,0x1B73,0}, {0x1B80,0x1B82,0}, {0x1BA1,0x1BAD,0}, {0x1BE6,0x1BF3,0},
    {0x1C24,0x1C37,0}, {0x1CD0,0x1CD2,0}, {0x1CD4,0x1CE8,0}, {0x1CED,0x1CED,0},
    {0x1CF4,0x1CF4,0}, {0x1CF7,0x1CF9,0}, {0x1DC0,0x1DFF,0}, {0x200B,0x200F,0},
    {0x2028,0x202E,0}, {0x2060,0x206F,0}, {0x20D0,0x20F0,0}, {0x231A,0x231B,2},
    {0x2329,0x232A,2}, {0x23E9,0x23EC,2}, {0x23F0,0x23F0,2}, {0x23F3,0x23F3,2},
    {0x25FD,0x25FE,2}, {0x2614,0x2615,2}, {0x2630,0x2637,2}, {0x2648,0x2653,2},
    {0x267F,0x267F,2}, {0x268A,0x268F,2}, {0x2693,0x2693,2}, {0x26A1,0x26A1,2},
    {0x26AA,0x26AB,2}, {0x26BD,0x26BE,2}, {0x26C4,0x26C5,2}, {0x26CE,0x26CE,2},
    {0x26D4,0x26D4,2}, {0x26EA,0x26EA,2}, {0x26F2,0x26F3,2}, {0x26F5,0x26F5,2},
    {0x26FA,0x26FA,2}, {0x26FD,0x26FD,2}, {0x2705,0x2705,2}, {0x270A,0x270B,2},
    {0x2728,0x2728,2}, {0x274C,0x274C,2}, {0x274E,0x274E,2}, {0x2753,0x2755,2},
    {0x2757,0x2757,2}, {0x2795,0x2797,2}, {0x27B0,0x27B0,2}, {0x27BF,0x27BF,2},
    {0x2B1B,0x2B1C,2}, {0x2B50,0x2B50,2}, {0x2B55,0x2B55,2}, {0x2CEF,0x2CF1,0},
    {0x2D7F,0x2D7F,0}, {0x2DE0,0x2DFF,0}, {0x2E80,0x2E99,2}, {0x2E9B,0x2EF3,2},
    {0x2F00,0x2FD5,2}, {0x2FF0,0x3029,2}, {0x302A,0x302F,0}, {0x3030,0x303E,2},
    {0x3041,0x3096,2}, {0x3099,0x309A,0}, {0x309B,0x30FF,2}, {0x3105,0x312F,2},
    {0x3131,0x3163,2}, {0x3164,0x3164,0}, {0x3165,0x318E,2}, {0x3190,0x31E5,2},
    {0x31EF,0x321E,2}, {0x3220,0x3247,2}, {0x3250,0xA48C,2}, {0xA490,0xA4C6,2},
    {0xA66F,0xA672,0}, {0xA674,0xA67D,0}, {0xA69E,0xA69F,0}, {0xA6F0,0xA6F1,0},
    {0xA802,0xA802,0}, {0xA806,0xA806,0}, {0xA80B,0xA80B,0}, {0xA823,0xA827,0},
    {0xA82C,0xA82C,0}, {0xA880,0xA881,0}, {0xA8B4,0xA8C5,0}, {0xA8E0,0xA8F1,0},
    {0xA8FF,0xA8FF,0}, {0xA926,0xA92D,0}, {0xA947,0xA953,0}, {0xA960,0xA97C,2},
    {0xA980,0xA983,0}, {0xA9B3,0xA9C0,0}, {0xA9E5,0xA9E5,0}, {0xAA29,0xAA36,0},
    {0xAA43,0xAA43,0}, {0xAA4C,0xAA4D,0}, {0xAA7B,0xAA7D,0}, {0xAAB0,0xAAB0,0},
    {0xAAB2,0xAAB4,0}, {0xAAB7,0xAAB8,0}, {0xAABE,0xAABF,0}, {0xAAC1,0xAAC1,0},
    {0xAAEB,0xAAEF,0}, {0xAAF5,0xAAF6,0}, {0xABE3,0xABEA,0}, {0xABEC,0xABED,0},
    {0xAC00,0xD7A3,2}, {0xD7B0,0xD7FF,0}, {0xF900,0xFAFF,2}, {0xFB1E,0xFB1E,0},
    {0xFE00,0xFE0F,0}, {0xFE10,0xFE19,2}, {0xFE20,0xFE2F,0}, {0xFE30,0xFE52,2},
    {0xFE54,0xFE66,2}, {0xFE68,0xFE6B,2}, {0xFEFF,0xFEFF,0}, {0xFF01,0xFF60,2},
    {0xFFA0,0xFFA0,0}, {0xFFE0,0xFFE6,2}, {0xFFF0,0xFFFB,0}, {0x101FD,0x101FD,0},
    {0x102E0,0x102E0,0}, {0x10376,0x1037A,0}, {0x10A01,0x10A03,0}, {0x10A05,0x10A06,0},
    {0x10A0C,0x10A0F,0}, {0x10A38,0x10A3A,0}, {0x10A3F,0x10A3F,0}, {0x10AE5,0x10AE6,0},
    {0x10D24,0x10D27,0}, {0x10D69,0x10D6D,0}, {0x10EAB,0x10EAC,0}, {0x10EFA,0x10EFF,0},
    {0x10F46,0x10F50,0}, {0x10F82,0x10F85,0}, {0x11000,0x11002,0}, {0x11038,0x11046,0},
    {0x11070,0x11070,0}, {0x11073,0x11074,0}, {0x1107F,0x11082,0}, {0x110B0,0x110BA,0},
    {0x110C2,0x110C2,0}, {0x11100,0x11102,0}, {0x11127,0x11134,0}, {0x11145,0x11146,0},
    {0x11173,0x11173,0}, {0x11180,0x11182,0}, {0x111B3,0x111C0,0}, {0x111C9,0x111CC,0},
    {0x111CE,0x111CF,0}, {0x1122C,0x11237,0}, {0x1123E,0x1123E,0}, {0x11241,0x11241,0},
    {0x112DF,0x112EA,0}, {0x11300,0x11303,0}, {0x1133B,0x1133C,0}, {0x1133E,0x11344,0},
    {0x11347,0x11348,0}, {0x1134B,0x1134D,0}, {0x11357,0x11357,0}, {0x11362,0x11363,0},
    {0x11366,0x1136C,0}, {0x11370,0x11374,0}, {0x113B8,0x113C0,0}, {0x113C2,0x113C2,0},
    {0x113C5,0x113C5,0}, {0x113C7,0x113CA,0}, {0x113CC,0x113D0,0}, {0x113D2,0x113D2,0},
    {0x113E1,0x113E2,0}, {0x11435,0x11446,0}, {0x1145E,0x1145E,0}, {0x114B0,0x114C3,0},
    {0x115AF,0x115B5,0}, {0x115B8,0x115C0,0}, {0x115DC,0x115DD,0}, {0x11630,0x11640,0},
    {0x116AB,0x116B7,0}, {0x1171D,0x1172B,0}, {0x1182C,0x1183A,0}, {0x11930,0x11935,0},
    {0x11937,0x11938,0}, {0x1193B,0x1193E,0}, {0x11940,0x11940,0}, {0x11942,0x11943,0},
    {0x119D1,0x119D7,0}, {0x119DA,0x119E0,0}, {0x119E4,0x119E4,0}, {0x11A01,0x11A0A,0},
    {0x11A33,0x11A39,0}, {0x11A3B,0x11A3E,0}, {0x11A47,0x11A47,0}, {0x11A51,0x11A5B,0},
    {0x11A8A,0x11A99,0}, {0x11B60,0x11B67,0}, {0x11C2F,0x11C36,0}, {0x11C38,0x11C3F,0},
    {0x11C92,0x11CA7,0}, {0x11CA9,0x11CB6,0}, {0x11D31,0x11D36,0}, {0x11D3A,0x11D3A,0},
    {0x11D3C,0x11D3D,0}, {0x11D3F,0x11D45,0}, {0x11D47,0x11D47,0}, {0x11D8A,0x11D8E,0},
    {0x11D90,0x11D91,0}, {0x11D93,0x11D97,0}, {0x11EF3,0x11EF6,0}, {0x11F00,0x11F01,0},
    {0x11F03,0x11F03,0}, {0x11F34,0x11F3A,0}, {0x11F3E,0x11F42,0}, {0x11F5A,0x11F5A,0},
    {0x13430,0x13440,0}, {0x13447,0x13455,0}, {0x1611E,0x1612F,0}, {0x16AF0,0x16AF4,0},
    {0x16B30,0x16B36,0}, {0x16F4F,0x16F4F,0}, {0x16F51,0x16F87,0}, {0x16F8F,0x16F92,0},
    {0x16FE0,0x16FE3,2}, {0x16FE4,0x16FE4,0}, {0x16FF0,0x16FF1,0}, {0x16FF2,0x16FF6,2},
    {0x17000,0x18CD5,2}, {0x18CFF,0x18D1E,2}, {0x18D80,0x18DF2,2}, {0x1AFF0,0x1AFF3,2},
    {0x1AFF5,0x1AFFB,2}, {0x1AFFD,0x1AFFE,2}, {0x1B000,0x1B122,2}, {0x1B132,0x1B132,2},
    {0x1B150,0x1B152,2}, {0x1B155,0x1B155,2}, {0x1B164,0x1B167,2}, {0x1B170,0x1B2FB,2},
    {0x1BC9D,0x1BC9E,0}, {0x1BCA0,0x1BCA3,0}, {0x1CF00,0x1CF2D,0}, {0x1CF30,0x1CF46,0},
    {0x1D165,0x1D169,0}, {0x1D16D,0x1D182,0}, {0x1D185,0x1D18B,0}, {0x1D1AA,0x1D1AD,0},
    {0x1D242,0x1D244,0}, {0x1D300,0x1D356,2}, {0x1D360,0x1D376,2}, {0x1DA00,0x1DA36,0},
    {0x1DA3B,0x1DA6C,0}, {0x1DA75,0x1DA75,0}, {0x1DA84,0x1DA84,0}, {0x1DA9B,0x1DA9F,0},
    {0x1DAA1,0x1DAAF,0}, {0x1E000,0x1E006,0}, {0x1E008,0x1E018,0}, {0x1E01B,0x1E021,0},
    {0x1E023,0x1E024,0}, {0x1E026,0x1E02A,0}, {0x1E08F,0x1E08F,0}, {0x1E130,0x1E136,0},
    {0x1E2AE,0x1E2AE,0}, {0x1E2EC,0x1E2EF,0}, {0x1E4EC,0x1E4EF,0}, {0x1E5EE,0x1E5EF,0},
    {0x1E6E3,0x1E6E3,0}, {0x1E6E6,0x1E6E6,0}, {0x1E6EE,0x1E6EF,0}, {0x1E6F5,0x1E6F5,0},
    {0x1E8D0,0x1E8D6,0}, {0x1E944,0x1E94A,0}, {0x1F004,0x1F004,2}, {0x1F0CF,0x1F0CF,2},
    {0x1F18E,0x1F18E,2}, {0x1F191,0x1F19A,2}, {0x1F200,0x1F202,2}, {0x1F210,0x1F23B,2},
    {0x1F240,0x1F248,2}, {0x1F250,0x1F251,2}, {0x1F260,0x1F265,2}, {0x1F300,0x1F320,2},
    {0x1F32D,0x1F335,2}, {0x1F337,0x1F37C,2}, {0x1F37E,0x1F393,2}, {0x1F3A0,0x1F3CA,2},
    {0x1F3CF,0x1F3D3,2}, {0x1F3E0,0x1F3F0,2}, {0x1F3F4,0x1F3F4,2}, {0x1F3F8,0x1F3FA,2},
    {0x1F3FB,0x1F3FF,0}, {0x1F400,0x1F43E,2}, {0x1F440,0x1F440,2}, {0x1F442,0x1F4FC,2},
    {0x1F4FF,0x1F53D,2}, {0x1F54B,0x1F54E,2}, {0x1F550,0x1F567,2}, {0x1F57A,0x1F57A,2},
    {0x1F595,0x1F596,2}, {0x1F5A4,0x1F5A4,2}, {0x1F5FB,0x1F64F,2}, {0x1F680,0x1F6C5,2},
    {0x1F6CC,0x1F6CC,2}, {0x1F6D0,0x1F6D2,2}, {0x1F6D5,0x1F6D8,2}, {0x1F6DC,0x1F6DF,2},
    {0x1F6EB,0x1F6EC,2}, {0x1F6F4,0x1F6FC,2}, {0x1F7E0,0x1F7EB,2}, {0x1F7F0,0x1F7F0,2},
    {0x1F90C,0x1F93A,2}, {0x1F93C,0x1F945,2}, {0x1F947,0x1F9FF,2}, {0x1FA70,0x1FA7C,2},
    {0x1FA80,0x1FA8A,2}, {0x1FA8E,0x1FAC6,2}, {0x1FAC8,0x1FAC8,2}, {0x1FACD,0x1FADC,2},
    {0x1FADF,0x1FAEA,2}, {0x1FAEF,0x1FAF8,2}, {0x20000,0x2FFFD,2}, {0x30000,0x3FFFD,2},
    {0xE0000,0xE0FFF,0},
};

/* Characters that become 2 cells wide when followed by U+FE0F (emoji
 * presentation selector); rich's narrow_to_wide set. */
typedef struct crange {
    uint32_t lo, hi;
} crange;

static const crange NARROW_TO_WIDE[] = {
    {0x23,0x23}, {0x2A,0x2A}, {0x30,0x39}, {0xA9,0xA9}, {0xAE,0xAE}, {0x203C,0x203C},
    {0x2049,0x2049}, {0x2122,0x2122}, {0x2139,0x2139}, {0x2194,0x2199}, {0x21A9,0x21AA},
    {0x2328,0x2328}, {0x23CF,0x23CF}, {0x23ED,0x23EF}, {0x23F1,0x23F2}, {0x23F8,0x23FA},
    {0x24C2,0x24C2}, {0x25AA,0x25AB}, {0x25B6,0x25B6}, {0x25C0,0x25C0}, {0x25FB,0x25FC},
    {0x2600,0x2604}, {0x260E,0x260E}, {0x2611,0x2611}, {0x2618,0x2618}, {0x261D,0x261D},
    {0x2620,0x2620}, {0x2622,0x2623}, {0x2626,0x2626}, {0x262A,0x262A}, {0x262E,0x262F},
    {0x2638,0x263A}, {0x2640,0x2640}, {0x2642,0x2642}, {0x265F,0x2660}, {0x2663,0x2663},
    {0x2665,0x2666}, {0x2668,0x2668}, {0x267B,0x267B}, {0x267E,0x267E}, {0x2692,0x2692},
    {0x2694,0x2697}, {0x2699,0x2699}, {0x269B,0x269C}, {0x26A0,0x26A0}, {0x26A7,0x26A7},
    {0x26B0,0x26B1}, {0x26C8,0x26C8}, {0x26CF,0x26CF}, {0x26D1,0x26D1}, {0x26D3,0x26D3},
    {0x26E9,0x26E9}, {0x26F0,0x26F1}, {0x26F4,0x26F4}, {0x26F7,0x26F9}, {0x2702,0x2702},
    {0x2708,0x2709}, {0x270C,0x270D}, {0x270F,0x270F}, {0x2712,0x2712}, {0x2714,0x2714},
    {0x2716,0x2716}, {0x271D,0x271D}, {0x2721,0x2721}, {0x2733,0x2734}, {0x2744,0x2744},
    {0x2747,0x2747}, {0x2763,0x2764}, {0x27A1,0x27A1}, {0x2934,0x2935}, {0x2B05,0x2B07},
    {0x1F170,0x1F171}, {0x1F17E,0x1F17F}, {0x1F321,0x1F321}, {0x1F324,0x1F32C},
    {0x1F336,0x1F336}, {0x1F37D,0x1F37D}, {0x1F396,0x1F397}, {0x1F399,0x1F39B},
    {0x1F39E,0x1F39F}, {0x1F3CB,0x1F3CE}, {0x1F3D4,0x1F3DF}, {0x1F3F3,0x1F3F3},
    {0x1F3F5,0x1F3F5}, {0x1F3F7,0x1F3F7}, {0x1F43F,0x1F43F}, {0x1F441,0x1F441},
    {0x1F4FD,0x1F4FD}, {0x1F549,0x1F54A}, {0x1F56F,0x1F570}, {0x1F573,0x1F579},
    {0x1F587,0x1F587}, {0x1F58A,0x1F58D}, {0x1F590,0x1F590}, {0x1F5A5,0x1F5A5},
    {0x1F5A8,0x1F5A8}, {0x1F5B1,0x1F5B2}, {0x1F5BC,0x1F5BC}, {0x1F5C2,0x1F5C4},
    {0x1F5D1,0x1F5D3}, {0x1F5DC,0x1F5DE}, {0x1F5E1,0x1F5E1}, {0x1F5E3,0x1F5E3},
    {0x1F5E8,0x1F5E8}, {0x1F5EF,0x1F5EF}, {0x1F5F3,0x1F5F3}, {0x1F5FA,0x1F5FA},
    {0x1F6CB,0x1F6CB}, {0x1F6CD,0x1F6CF}, {0x1F6E0,0x1F6E5}, {0x1F6E9,0x1F6E9},
    {0x1F6F0,0x1F6F0}, {0x1F6F3,0x1F6F3},
};

#define ZWJ 0x200Du
#define VS16 0xFE0Fu
#define ELLIPSIS 0x2026u

static int cp_width(uint32_t c) {
    if (c >= 32 && c < 0x7F) return 1; /* printable ASCII, most of a summary: no search */
    if ((c && c < 32) || (c >= 0x7F && c < 0xA0)) return 0;
    size_t lo = 0, hi = (size_t)CK_N_OF(WIDTHS);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < WIDTHS[mid].lo) hi = mid;
        else if (c > WIDTHS[mid].hi) lo = mid + 1;
        else return WIDTHS[mid].w;
    }
    return 1;
}

static int narrow_to_wide(uint32_t c) {
    size_t lo = 0, hi = (size_t)CK_N_OF(NARROW_TO_WIDE);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < NARROW_TO_WIDE[mid].lo) hi = mid;
        else if (c > NARROW_TO_WIDE[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

/* rich cell_len: a zero width joiner also hides the character after it, and
 * U+FE0F widens the preceding narrow emoji-capable character. */
static long cell_len(const uint32_t *s, size_t n) {
    long total = 0;
    uint32_t last = 0; /* 0 = nothing measured since the last selector */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ZWJ) {
            i++;
        } else if (s[i] == VS16) {
            if (last) total += narrow_to_wide(last);
            last = 0;
        } else {
            int w = cp_width(s[i]);
            if (w) {
                last = s[i];
                total += w;
            }
        }
    }
    return total;
}

static long cs_cells(const cpstr *s) { return cell_len(s->v, s->n); }

/* Python's str.isspace / regex \s for str patterns. */
static int is_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* One grapheme as rich's split_graphemes sees it: [start, end) and its cells. */
typedef struct gspan {
    size_t start, end;
    long cells;
} gspan;

/* rich split_graphemes: zero-width characters, ZWJ (+ the next character) and
 * U+FE0F attach to the previous span. Returns the span count; *out is malloc'ed
 * (NULL and -1 when out of memory). */
static long graphemes(const uint32_t *s, size_t n, gspan **out) {
    gspan *g = ck_malloc((n ? n : 1) * sizeof *g);
    *out = g;
    if (!g) return -1;
    long k = 0;
    uint32_t last = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c = s[i];
        int special = c == ZWJ || c == VS16;
        int w = special ? 0 : cp_width(c);
        if (k == 0 && (special || !w)) { /* nothing to attach to yet */
            g[k++] = (gspan){i, i + 1, 0};
            i++;
            continue;
        }
        if (!special && w) {
            last = c;
            g[k++] = (gspan){i, i + 1, w};
            i++;
            continue;
        }
        if (c == ZWJ) {
            i += i + 1 < n ? 2 : 1;
        } else if (c == VS16) {
            if (last && narrow_to_wide(last)) {
                g[k - 1].cells++;
                last = 0;
            }
            i++;
        } else {
            i++;
        }
        g[k - 1].end = i;
    }
    return k;
}

/* ------------------------------------------------------ rich text layout */

/* Justification of one column (rich's "default" does nothing: console.print). */
typedef enum just { J_LEFT, J_CENTER, J_RIGHT, J_DEFAULT } just;

/* How a piece of text is wrapped: table cells use overflow "ellipsis",
 * console.print uses "fold" (over-long words are chopped, not cut short). */
typedef struct wrapspec {
    long width;
    just j;
    int fold;
} wrapspec;

/* Growable list of break offsets. */
typedef struct offs {
    size_t *v;
    size_t n;
    int cap;
    int bad;
} offs;

static void off_push(offs *o, size_t x) {
    if (!o->bad && (o->n >= INT_MAX || ck_grow((void **)&o->v, &o->cap, (int)o->n + 1, sizeof *o->v))) o->bad = 1;
    if (!o->bad) o->v[o->n++] = x;
}

/* rich set_cell_size: pad with spaces or crop to exactly `total` cells; a wide
 * character cut in half is replaced by a space so the width still adds up. */
static void set_cell_size(cpstr *s, long total) {
    if (total <= 0) {
        s->n = 0;
        return;
    }
    long cells = cs_cells(s);
    if (cells <= total) {
        cs_rep(s, ' ', total - cells);
        return;
    }
    gspan *g;
    long k = graphemes(s->v, s->n, &g);
    if (k < 0) {
        s->bad = 1;
        return;
    }
    long left = 0;
    for (long i = 0; i < k; i++) {
        if (left == total || left + g[i].cells > total) {
            int straddles = left != total;
            s->n = g[i].start;
            if (straddles) cs_push(s, ' ');
            break;
        }
        left += g[i].cells;
    }
    ck_free(g);
}

static size_t trailing_spaces(const cpstr *s) {
    size_t k = 0;
    while (k < s->n && is_space(s->v[s->n - 1 - k])) k++;
    return k;
}

/* Text.rstrip_end: drop trailing whitespace, but only as much as the line is
 * longer than `size` (in characters, as rich counts here). */
static void rstrip_end(cpstr *s, long size) {
    if ((long long)s->n <= size) return;
    size_t excess = s->n - (size_t)size, ws = trailing_spaces(s);
    s->n -= ws < excess ? ws : excess;
}

/* Text.truncate: crop to max_width cells, ending in "…" when `ellipsis`. */
static void truncate_cells(cpstr *s, long max_width, int ellipsis, int pad) {
    long len = cs_cells(s);
    if (len > max_width) {
        set_cell_size(s, ellipsis ? max_width - 1 : max_width);
        if (ellipsis) cs_push(s, ELLIPSIS);
    }
    if (pad && len < max_width) cs_rep(s, ' ', max_width - len);
}

static long floor_div2(long x) { return x >= 0 ? x / 2 : -((-x + 1) / 2); }

/* Lines.justify for one line. */
static void justify_line(cpstr *s, long width, just j, int ellipsis) {
    if (j == J_DEFAULT) return;
    if (j == J_LEFT) {
        truncate_cells(s, width, ellipsis, 1);
        return;
    }
    s->n -= trailing_spaces(s);
    truncate_cells(s, width, ellipsis, 0);
    if (j == J_CENTER) {
        cs_insert_front(s, ' ', floor_div2(width - cs_cells(s)));
        cs_rep(s, ' ', width - cs_cells(s));
    } else {
        cs_insert_front(s, ' ', width - cs_cells(s));
    }
}

/* Next rich "word" (regex \s*\S+\s*) starting exactly at pos. Returns its end
 * and sets *core_end to the end of the non-space run; 0 when there is none. */
static size_t next_word(const uint32_t *s, size_t n, size_t pos, size_t *core_end) {
    size_t i = pos;
    while (i < n && is_space(s[i])) i++;
    if (i == n) return 0;
    while (i < n && !is_space(s[i])) i++;
    *core_end = i;
    while (i < n && is_space(s[i])) i++;
    return i;
}

/* chop_cells on the word at s[start, end), then divide_line's fold bookkeeping:
 * a break before every chunk but the text's first, offset = last chunk's cells. */
static void fold_word(const uint32_t *s, size_t start, size_t end, long width, offs *br,
                      long *offset) {
    const uint32_t *w = s + start;
    gspan *g;
    long k = graphemes(w, end - start, &g);
    offs chunk = {0}; /* [begin, end) pairs, relative to the word */
    if (k < 0) br->bad = 1;
    long size = 0;
    size_t chunk_at = 0;
    for (long i = 0; i < k; i++) {
        if (size + g[i].cells > width) {
            off_push(&chunk, chunk_at);
            off_push(&chunk, g[i].start);
            chunk_at = g[i].start;
            size = 0;
        }
        size += g[i].cells;
    }
    if (size) {
        off_push(&chunk, chunk_at);
        off_push(&chunk, end - start);
    }
    if (chunk.bad) br->bad = 1;
    for (size_t c = 0; c + 1 < chunk.n; c += 2) {
        size_t len = chunk.v[c + 1] - chunk.v[c];
        if (start) off_push(br, start);
        if (c + 2 >= chunk.n) *offset = cell_len(w + chunk.v[c], len);
        else start += len;
    }
    ck_free(chunk.v);
    ck_free(g);
}

/* rich divide_line: where to break s so that each line fits `width` cells;
 * only at whitespace unless fold (then over-long words are chopped). */
static void divide_line(const uint32_t *s, size_t n, long width, int fold, offs *br) {
    long offset = 0;
    size_t pos = 0, core = 0, end;
    while ((end = next_word(s, n, pos, &core)) != 0) {
        size_t start = pos;
        long wl = cell_len(s + start, core - start);
        if (width - offset >= wl) {
            offset += cell_len(s + start, end - start);
        } else if (wl > width) {
            if (fold) {
                fold_word(s, start, end, width, br, &offset);
            } else {
                if (start) off_push(br, start);
                offset = cell_len(s + start, end - start);
            }
        } else if (offset && start) {
            off_push(br, start);
            offset = cell_len(s + start, end - start);
        }
        pos = end;
    }
}

/* One wrapped line through the rest of Text.wrap and render_lines. */
static void finish_line(cpstr *line, const wrapspec *ws) {
    int ellipsis = !ws->fold;
    rstrip_end(line, ws->width);
    justify_line(line, ws->width, ws->j, ellipsis);
    truncate_cells(line, ws->width, ellipsis, 0);
    /* render_lines crops to the width; its padding is a separate segment, which
     * row_cell_line adds so that per-segment cropping stays exact. */
    if (cs_cells(line) > ws->width) set_cell_size(line, ws->width);
}

/* Text.expand_tabs(8): a tab becomes a space, then spaces up to the next
 * multiple of 8 cells (cells counted per tab-separated part, as rich does). */
static void expand_tabs(const uint32_t *s, size_t n, cpstr *out) {
    long pos = 0;
    size_t a = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\t') continue;
        size_t part = out->n;
        cs_append(out, s + a, i - a);
        if (i < n) cs_push(out, ' ');
        if (out->bad) return;
        pos += cell_len(out->v + part, out->n - part);
        if (i < n && pos % 8) {
            cs_rep(out, ' ', 8 - pos % 8);
            pos += 8 - pos % 8;
        }
        a = i + 1;
    }
}

static void wrap_paragraph(const uint32_t *s, size_t n, const wrapspec *ws, lines *out) {
    cpstr expanded = {0};
    if (cs_has(s, n, '\t')) {
        expand_tabs(s, n, &expanded);
        if (expanded.bad) out->bad = 1;
        s = expanded.v;
        n = expanded.n;
    }
    offs br = {0};
    divide_line(s, n, ws->width, ws->fold, &br);
    if (br.bad) out->bad = 1;
    size_t prev = 0;
    for (size_t i = 0; i <= br.n && !out->bad; i++) {
        size_t next = i < br.n ? br.v[i] : n;
        cpstr line = {0};
        cs_append(&line, s + prev, next - prev);
        finish_line(&line, ws);
        ln_push(out, &line);
        prev = next;
    }
    ck_free(br.v);
    cs_free(&expanded);
}

/* A str rendered by rich at a given width: one paragraph per "\n" piece.
 * Nothing at all when the width is below 1 (console.render yields nothing). */
static void wrap_text(const cpstr *t, const wrapspec *ws, lines *out) {
    if (t->bad) out->bad = 1;
    if (ws->width < 1) return;
    size_t a = 0;
    for (;;) {
        size_t b = a;
        while (b < t->n && t->v[b] != '\n') b++;
        wrap_paragraph(t->v + a, b - a, ws, out);
        if (b == t->n) break;
        a = b + 1;
    }
}

/* console.print of a plain line: wrapped (folding long words) at the console
 * width, no padding; each resulting line ends with "\n". */
static void console_print(ck_buf *out, const char *utf8, long console) {
    cpstr t = cs_from_utf8(utf8);
    lines l = {0};
    wrap_text(&t, &(wrapspec){console, J_DEFAULT, 1}, &l);
    if (l.bad) out->failed = true;
    for (size_t i = 0; i < l.n; i++) {
        sb_put_cs(out, &l.v[i]);
        ck_buf_put(out, "\n");
    }
    ln_free(&l);
    cs_free(&t);
}

/* ------------------------------------------------- Keras 3 column widths */

static const double K3_SEQ_POS[] = {0.45, 0.80, 1.0};
static const double K3_FUNC_POS[] = {0.3, 0.56, 0.74, 1.0};

static int table_cols(const ck_table_opts *o) {
    return 3 + (o->functional != 0) + (o->show_trainable != 0);
}

/* The user's positions, or the layout's defaults (Python: `positions or default`). */
static const double *base_positions(const ck_table_opts *o, const double *seq,
                                    const double *func, int *n) {
    if (o->positions && o->n_positions > 0) {
        *n = o->n_positions;
        return o->positions;
    }
    *n = o->functional ? 4 : 3;
    return o->functional ? func : seq;
}

/* Line length: explicit, else 88/108 (+12) capped at console - 4 (Keras uses the
 * terminal size; 80 when stdout is not a terminal). */
static long k3_line_length(const ck_table_opts *o, long console) {
    long def = (o->functional ? 108 : 88) + (o->show_trainable ? 12 : 0);
    if (def > console - 4) def = console - 4;
    return o->line_length ? o->line_length : def;
}

/* Keras's requested column widths: int(pos * L) differences, each >= 4. With
 * show_trainable every position is first scaled by 0.90 (rounded to double
 * before the multiplication by L, as in Python) and a final 1.0 appended. */
static const char *k3_requested(const ck_table_opts *o, long L, int64_t *w) {
    int nbase, n = table_cols(o);
    const double *base = base_positions(o, K3_SEQ_POS, K3_FUNC_POS, &nbase);
    int count = nbase + (o->show_trainable != 0);
    int64_t current = 0;
    for (int i = 0; i < count; i++) {
        double pos = i == nbase ? 1.0 : base[i];
        if (o->show_trainable && i < nbase) pos = pos * 0.90;
        double x = pos * (double)L;
        if (!(x > -9e15 && x < 9e15)) return ERR_POSVAL;
        int64_t width = (int64_t)x - current; /* int() truncates toward zero */
        if (width < 4) return ERR_WIDTH;
        if (i < n) w[i] = width;
        current += width;
    }
    return count < n ? ERR_NPOS : NULL;
}

/* Python round() of the float a/b, half to even; exact for a >= 0, b > 0 of the
 * sizes seen here, and keeps this file free of libm. */
static int64_t round_half_even_div(int64_t a, int64_t b) {
    int64_t q = a / b, r2 = 2 * (a % b);
    if (r2 > b || (r2 == b && (q & 1))) q++;
    return q;
}

static int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? -((-a) / b) : (a + b - 1) / b; }

/* rich ratio_reduce with every ratio 1 (0 for empty columns), maximums = values. */
static void ratio_reduce(int64_t total, int64_t *p, int n) {
    int64_t total_ratio = 0;
    for (int i = 0; i < n; i++) total_ratio += p[i] ? 1 : 0;
    int64_t remaining = total;
    for (int i = 0; i < n && total_ratio > 0; i++) {
        if (!p[i]) continue;
        int64_t d = round_half_even_div(remaining, total_ratio);
        if (d > p[i]) d = p[i];
        p[i] -= d;
        remaining -= d;
        total_ratio -= 1;
    }
}

/* rich ratio_distribute(total, ratios = p) added onto p. */
static void ratio_distribute(int64_t total, int64_t *p, int n) {
    int64_t total_ratio = 0, remaining = total, add[CK_TABLE_MAXCOLS];
    for (int i = 0; i < n; i++) total_ratio += p[i];
    for (int i = 0; i < n; i++) {
        add[i] = total_ratio > 0 ? ceil_div(p[i] * remaining, total_ratio) : remaining;
        if (add[i] < 0) add[i] = 0;
        total_ratio -= p[i];
        remaining -= add[i];
    }
    for (int i = 0; i < n; i++) p[i] += add[i];
}

/* rich Table._calculate_column_widths for fixed-width columns in a table of
 * width L: widths between the borders, padding included. */
static void k3_rich_widths(const int64_t *w, int n, long L, int64_t *p) {
    int64_t max = (int64_t)L - (n + 1), sum = 0; /* n + 1 vertical rules */
    for (int i = 0; i < n; i++) {
        p[i] = max < 1 ? 1 : (w[i] + 2 < max ? w[i] + 2 : max);
        sum += p[i];
    }
    if (sum > max) {
        ratio_reduce(sum - max, p, n);
    } else if (sum < max) {
        ratio_distribute(max - sum, p, n); /* the table "expands" to its width */
    }
}

/* ------------------------------------------------------ Keras 3 drawing */

typedef struct k3table {
    int n;
    int64_t p[CK_TABLE_MAXCOLS]; /* column widths between rules, padding included */
    long console;                /* lines are cropped to this many cells */
} k3table;

/* A table line as rich holds it: text plus the offsets where its segments
 * (borders, cell padding, cell text) begin. Cropping works per segment, which
 * matters for the rare character whose width depends on its neighbours (ZWJ,
 * U+FE0F) at a segment start. */
typedef struct segline {
    cpstr text;
    offs starts;
} segline;

static void seg_begin(segline *l) {
    off_push(&l->starts, l->text.n);
    if (l->starts.bad) l->text.bad = 1;
}

static void seg_free(segline *l) {
    cs_free(&l->text);
    ck_free(l->starts.v);
    l->starts = (offs){0};
}

/* Appends text as a new segment. */
static void seg_add(segline *l, const uint32_t *v, size_t n) {
    seg_begin(l);
    cs_append(&l->text, v, n);
}

static void seg_bounds(const segline *l, size_t i, size_t *a, size_t *b) {
    *a = l->starts.v[i];
    *b = i + 1 < l->starts.n ? l->starts.v[i + 1] : l->text.n;
}

/* rich Segment.adjust_line_length: appends the segments of `in` to `out`,
 * cropping the segment that crosses `length` cells (per-segment cell counts,
 * as rich sums them) and, with pad, filling a short line with spaces. */
static void seg_adjust(segline *out, const segline *in, long length, int pad) {
    long total = 0, used = 0;
    size_t a, b;
    if (in->text.bad) out->text.bad = 1;
    for (size_t i = 0; i < in->starts.n; i++) {
        seg_bounds(in, i, &a, &b);
        total += cell_len(in->text.v + a, b - a);
    }
    for (size_t i = 0; i < in->starts.n; i++) {
        seg_bounds(in, i, &a, &b);
        long cells = cell_len(in->text.v + a, b - a);
        if (total <= length || used + cells < length) {
            seg_add(out, in->text.v + a, b - a);
            used += cells;
            continue;
        }
        cpstr seg = {0};
        cs_append(&seg, in->text.v + a, b - a);
        set_cell_size(&seg, length - used);
        seg_add(out, seg.v, seg.n);
        if (seg.bad) out->text.bad = 1;
        cs_free(&seg);
        break;
    }
    if (pad && total < length) {
        seg_begin(out);
        cs_rep(&out->text, ' ', length - total);
    }
}

/* Console.print(crop=True): the line cut to the console width, not padded. */
static void emit_cropped(ck_buf *out, segline *l, long console) {
    segline c = {0};
    seg_adjust(&c, l, console, 0);
    sb_put_cs(out, &c.text);
    ck_buf_put(out, "\n");
    seg_free(&c);
}

/* A horizontal rule: left, fill per column, joint between columns, right. */
static void emit_rule(ck_buf *out, const k3table *t, const uint32_t box[4]) {
    segline line = {0};
    seg_begin(&line);
    cs_push(&line.text, box[0]);
    for (int i = 0; i < t->n; i++) {
        if (i) cs_push(&line.text, box[2]);
        cs_rep(&line.text, box[1], t->p[i]);
    }
    cs_push(&line.text, box[3]);
    emit_cropped(out, &line, t->console);
    seg_free(&line);
}

/* Appends one cell's k-th visual line, " text " or a blank, shaped to the
 * column width (Segment.set_shape: a line wider than it loses its right end). */
static void row_cell_line(segline *line, const lines *cl, size_t k, int64_t width) {
    static const uint32_t space = ' ';
    segline cell = {0};
    if (k < cl->n) {
        long short_by = (long)width - 2 - cs_cells(&cl->v[k]);
        seg_add(&cell, &space, 1);
        seg_add(&cell, cl->v[k].v, cl->v[k].n);
        if (short_by > 0) { /* render_lines(pad=True) */
            seg_begin(&cell);
            cs_rep(&cell.text, ' ', short_by);
        }
        seg_add(&cell, &space, 1);
    } else {
        seg_begin(&cell);
        cs_rep(&cell.text, ' ', width);
    }
    seg_adjust(line, &cell, (long)width, 1);
    seg_free(&cell);
}

/* One table row: every cell wrapped to its column; header cells hang from the
 * bottom of the row, body cells from the top; missing lines are blank. */
static void emit_row(ck_buf *out, const k3table *t, const char *const *cells, const just *js,
                     int header, uint32_t vert) {
    lines cl[CK_TABLE_MAXCOLS] = {{0}};
    size_t height = 1;
    for (int i = 0; i < t->n; i++) {
        cpstr s = cs_from_utf8(cells[i]);
        wrap_text(&s, &(wrapspec){(long)t->p[i] - 2, js[i], 0}, &cl[i]);
        cs_free(&s);
        if (cl[i].bad) out->failed = true;
        if (cl[i].n > height) height = cl[i].n;
    }
    for (size_t k = 0; k < height && !out->failed; k++) {
        segline line = {0};
        seg_begin(&line);
        cs_push(&line.text, vert);
        for (int i = 0; i < t->n; i++) {
            size_t skip = header ? height - cl[i].n : 0;
            row_cell_line(&line, &cl[i], k >= skip ? k - skip : cl[i].n, t->p[i]);
            seg_begin(&line);
            cs_push(&line.text, vert);
        }
        emit_cropped(out, &line, t->console);
        seg_free(&line);
    }
    for (int i = 0; i < t->n; i++) ln_free(&cl[i]);
}

/* The cells of a row in column order, NULL read as "". */
static int row_cells(const ck_table_row *r, const ck_table_opts *o, const char **c) {
    int n = 0;
    c[n++] = r->layer ? r->layer : "";
    c[n++] = r->shape ? r->shape : "";
    c[n++] = r->params ? r->params : "";
    if (o->functional) c[n++] = r->connected ? r->connected : "";
    if (o->show_trainable) c[n++] = r->trainable ? r->trainable : "";
    return n;
}

static int header_cells(const ck_table_opts *o, const char **c, just *js) {
    static const char *const names[] = {"Layer (type)", "Output Shape", "Param #",
                                        "Connected to", "Trainable"};
    static const just j[] = {J_LEFT, J_LEFT, J_RIGHT, J_LEFT, J_CENTER};
    int n = 0;
    for (int i = 0; i < 5; i++) {
        if ((i == 3 && !o->functional) || (i == 4 && !o->show_trainable)) continue;
        c[n] = names[i];
        js[n++] = j[i];
    }
    return n;
}

/* rich box.HEAVY_HEAD, drawn with show_edge and show_lines. */
static const uint32_t BOX_TOP[4] = {0x250F, 0x2501, 0x2533, 0x2513};  /* ┏━┳┓ */
static const uint32_t BOX_HEAD[4] = {0x2521, 0x2501, 0x2547, 0x2529}; /* ┡━╇┩ */
static const uint32_t BOX_ROW[4] = {0x251C, 0x2500, 0x253C, 0x2524};  /* ├─┼┤ */
static const uint32_t BOX_FOOT[4] = {0x2514, 0x2500, 0x2534, 0x2518}; /* └─┴┘ */
#define BOX_HEAD_VERT 0x2503u /* ┃ */
#define BOX_BODY_VERT 0x2502u /* │ */

static void k3_draw(ck_buf *out, const k3table *t, const ck_table_row *rows, int n_rows,
                    const ck_table_opts *o) {
    const char *cells[CK_TABLE_MAXCOLS];
    just js[CK_TABLE_MAXCOLS];
    header_cells(o, cells, js);
    emit_rule(out, t, BOX_TOP);
    emit_row(out, t, cells, js, 1, BOX_HEAD_VERT);
    emit_rule(out, t, BOX_HEAD);
    for (int r = 0; r < n_rows && !out->failed; r++) {
        if (r) emit_rule(out, t, BOX_ROW); /* show_lines: between body rows only */
        row_cells(&rows[r], o, cells);
        emit_row(out, t, cells, js, 0, BOX_BODY_VERT);
    }
    emit_rule(out, t, BOX_FOOT);
}

static long console_or_default(int console_width) { return console_width > 0 ? console_width : 80; }

static void k3_title(ck_buf *out, const char *model_name, long console) {
    ck_buf title = {0};
    ck_buf_put(&title, "Model: \"");
    ck_buf_put(&title, model_name ? model_name : "");
    ck_buf_put(&title, "\"");
    if (title.failed) out->failed = true;
    else console_print(out, title.data, console);
    ck_buf_free(&title);
}

char *ck_table_render_keras3(const char *model_name, const ck_table_row *rows, int n_rows,
                             const ck_table_opts *opts, const char **err) {
    if (!opts || n_rows < 0 || (n_rows > 0 && !rows)) {
        if (err) *err = ERR_ARG;
        return NULL;
    }
    k3table t = {.n = table_cols(opts), .console = console_or_default(opts->console_width)};
    long L = k3_line_length(opts, t.console);
    int64_t w[CK_TABLE_MAXCOLS];
    const char *e = k3_requested(opts, L, w);
    if (e) {
        if (err) *err = e;
        return NULL;
    }
    k3_rich_widths(w, t.n, L, t.p);
    ck_buf out = {0};
    k3_title(&out, model_name, t.console);
    k3_draw(&out, &t, rows, n_rows, opts);
    return sb_finish(&out, err);
}

/* ------------------------------------------------- tf.keras 2.13+ printer */

static const double K2_SEQ_POS[] = {0.45, 0.85, 1.0};
static const double K2_FUNC_POS[] = {0.3, 0.6, 0.70, 1.0};

int ck_table_keras2_line_length(const ck_table_opts *opts) {
    if (!opts) return 0;
    long long L = opts->line_length ? opts->line_length : (opts->functional ? 98 : 65);
    L += opts->show_trainable ? 11 : 0;
    return L > INT_MAX ? INT_MAX : (int)L; /* no int overflow near INT_MAX */
}

/* Absolute column ends: fractions (last <= 1) are int(L * p) of the line length
 * before show_trainable's +11, which then appends its own end. malloc'ed. */
static const char *k2_positions(const ck_table_opts *o, long long **pos, int *npos) {
    int nbase;
    const double *base = base_positions(o, K2_SEQ_POS, K2_FUNC_POS, &nbase);
    long long L0 = o->line_length ? o->line_length : (o->functional ? 98 : 65);
    int fractions = base[nbase - 1] <= 1;
    long long *p = ck_malloc((size_t)(nbase + 1) * sizeof *p);
    if (!p) return ERR_OOM;
    for (int i = 0; i < nbase; i++) {
        double x = fractions ? (double)L0 * base[i] : base[i];
        if (!(x > -9e15 && x < 9e15)) {
            ck_free(p);
            return ERR_POSVAL;
        }
        p[i] = (long long)x;
        if (!fractions && (double)p[i] != x) { /* Python would fail on str[:float] */
            ck_free(p);
            return ERR_ABSPOS;
        }
    }
    int n = nbase;
    if (o->show_trainable) p[n++] = ck_table_keras2_line_length(o);
    if (n < table_cols(o)) { /* Python: IndexError on positions[col] */
        ck_free(p);
        return ERR_NPOS;
    }
    *pos = p;
    *npos = n;
    return NULL;
}

/* Python's bound for str[:k] / str[k:] on a string of n characters. */
static size_t py_bound(long long k, size_t n) {
    if (k < 0) k += (long long)n;
    if (k < 0) return 0;
    return (unsigned long long)k > n ? n : (size_t)k;
}

/* tf.keras cuts a cell early right after the first "),", "},", "]," or "',"
 * (the earliest of the four), so tuples and lists break after an element.
 * Returns the cut, or -1 when none of them occurs in s[0, n). */
static long long pattern_cut(const uint32_t *s, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t c = s[i];
        if (s[i + 1] == ',' && (c == ')' || c == '}' || c == ']' || c == '\'')) return (long long)i + 2;
    }
    return -1;
}

typedef struct k2row {
    const long long *pos;
    int npos;
    long long nested;
} k2row;

static size_t total_len(const cpstr *f, int nf) {
    size_t t = 0;
    for (int i = 0; i < nf; i++) t += f[i].n;
    return t;
}

/* One column's share of a visual line (print_row's inner loop body). */
static void k2_column(cpstr *line, cpstr *field, int col, const k2row *r) {
    long long start = col ? r->pos[col - 1] : 0, end = r->pos[col];
    int last = col == r->npos - 1;
    long long space = last ? 0 : 2;
    long long cutoff = end - start - space - (last ? 0 : 1) - (col == 0 ? r->nested : 0);
    size_t fit = py_bound(cutoff, field->n);
    long long cut = pattern_cut(field->v, fit);
    if (cut >= 0) {
        cutoff = cut;
        fit = (size_t)cut;
    }
    if (col == 0) {
        cs_rep(line, '|', r->nested);
        cs_push(line, ' ');
    }
    cs_append(line, field->v, fit);
    cs_rep(line, ' ', space);
    cs_drop_front(field, py_bound(cutoff, field->n));
    long long target = r->pos[col] - (r->nested && last ? r->nested : 0);
    cs_rep(line, ' ', target - (long long)line->n);
}

/* print_row: visual lines until every field is used up. tf.keras loops forever
 * when a line consumes nothing; that is reported as an error instead. */
static const char *k2_print_row(ck_buf *out, cpstr *f, int nf, const k2row *r) {
    size_t left = total_len(f, nf);
    while (left > 0 && !out->failed) {
        cpstr line = {0};
        for (int col = 0; col < nf; col++) k2_column(&line, &f[col], col, r);
        cs_rep(&line, '|', r->nested);
        sb_put_cs(out, &line);
        ck_buf_put(out, "\n");
        cs_free(&line);
        size_t now = total_len(f, nf);
        if (now == left) return ERR_K2LEN;
        left = now;
    }
    return NULL;
}

static const char *k2_row_strings(ck_buf *out, const char *const *cells, int nf, const k2row *r) {
    cpstr f[CK_TABLE_MAXCOLS];
    for (int i = 0; i < nf; i++) {
        f[i] = cs_from_utf8(cells[i]);
        if (f[i].bad) out->failed = true;
    }
    const char *e = out->failed ? NULL : k2_print_row(out, f, nf, r);
    for (int i = 0; i < nf; i++) cs_free(&f[i]);
    return e;
}

/* "|" * lvl + fill * (L - 2 * lvl) + "|" * lvl, the expand_nested frame lines. */
static void k2_bar(ck_buf *out, long long lvl, const char *fill, long long L) {
    sb_rep(out, "|", lvl);
    sb_rep(out, fill, L - 2 * lvl);
    sb_rep(out, "|", lvl);
    ck_buf_put(out, "\n");
}

/* What tf.keras prints after a row, reconstructed from the nesting levels:
 * an opening "¯" bar when the next row is nested deeper; otherwise a blank
 * separator unless the row ends its nested block, then one closing bar per
 * block that ends here (an expanded parent never gets its own separator). */
static void k2_after_row(ck_buf *out, long long lvl, long long next, long long L) {
    if (next > lvl) {
        for (long long l = lvl; l < next; l++) k2_bar(out, l + 1, "\xC2\xAF", L);
        return;
    }
    if (!(lvl > 0 && next < lvl)) k2_bar(out, lvl, " ", L);
    for (long long l = lvl - 1; l >= next; l--) k2_bar(out, l, "\xC2\xAF", L);
}

static const char *k2_body(ck_buf *out, const ck_table_row *rows, int n_rows,
                           const ck_table_opts *o, k2row *r, long long L) {
    const char *cells[CK_TABLE_MAXCOLS];
    for (int i = 0; i < n_rows; i++) {
        long long lvl = rows[i].nested_level > 0 ? rows[i].nested_level : 0;
        long long next = i + 1 < n_rows && rows[i + 1].nested_level > 0
                             ? rows[i + 1].nested_level : 0;
        int nf = row_cells(&rows[i], o, cells);
        r->nested = lvl;
        const char *e = k2_row_strings(out, cells, nf, r);
        if (e) return e;
        k2_after_row(out, lvl, next, L);
    }
    return NULL;
}

char *ck_table_render_keras2(const char *model_name, const ck_table_row *rows, int n_rows,
                             const ck_table_opts *opts, const char **err) {
    if (!opts || n_rows < 0 || (n_rows > 0 && !rows)) {
        if (err) *err = ERR_ARG;
        return NULL;
    }
    long long *pos = NULL;
    k2row r = {0};
    const char *e = k2_positions(opts, &pos, &r.npos);
    if (e) {
        if (err) *err = e;
        return NULL;
    }
    r.pos = pos;
    long long L = ck_table_keras2_line_length(opts);
    const char *head[CK_TABLE_MAXCOLS];
    just js[CK_TABLE_MAXCOLS];
    int nh = header_cells(opts, head, js);
    ck_buf out = {0};
    ck_buf_put(&out, "Model: \"");
    ck_buf_put(&out, model_name ? model_name : "");
    ck_buf_put(&out, "\"\n");
    k2_bar(&out, 0, "_", L);
    e = k2_row_strings(&out, head, nh, &r);
    if (!e) k2_bar(&out, 0, "=", L);
    if (!e) e = k2_body(&out, rows, n_rows, opts, &r, L);
    if (!e) k2_bar(&out, 0, "=", L);
    ck_free(pos);
    if (e) {
        ck_buf_free(&out);
        if (err) *err = e;
        return NULL;
    }
    return sb_finish(&out, err);
}

/* ------------------------------------------------------------- footers */

void ck_format_thousands(int64_t v, char *buf, size_t cap) {
    char digits[32], tmp[48];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; /* safe for INT64_MIN */
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u), k = 0;
    if (v < 0) tmp[k++] = '-';
    for (int i = 0; i < nd; i++) {
        if (i && (nd - i) % 3 == 0) tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = '\0';
    if (cap) snprintf(buf, cap, "%s", tmp);
}

void ck_format_bytes(double bytes, const char *unit_b, char *buf, size_t cap) {
    const char *units[] = {unit_b ? unit_b : "B", "KB", "MB", "GB", "TB", "PB"};
    for (int i = 0; i < 6; i++) {
        if (bytes / 1024 < 1) {
            if (cap) snprintf(buf, cap, "%.2f %s", bytes, units[i]);
            return;
        }
        bytes /= 1024;
    }
    if (cap) snprintf(buf, cap, "%.2f %s", bytes, units[5]);
}

/* " Label: 1,234 (4.82 KB)" through console.print, as Keras 3 prints it. */
static void k3_footer_line(ck_buf *out, const char *label, int64_t count, double bytes,
                           long console) {
    char num[48], size[64], line[192];
    ck_format_thousands(count, num, sizeof num);
    ck_format_bytes(bytes, "B", size, sizeof size);
    snprintf(line, sizeof line, " %s params: %s (%s)", label, num, size);
    console_print(out, line, console);
}

char *ck_table_footer_keras3(const ck_table_counts *c, int console_width, const char **err) {
    if (!c) {
        if (err) *err = ERR_ARG;
        return NULL;
    }
    long console = console_or_default(console_width);
    int opt = c->include_optimizer != 0;
    int64_t total = c->trainable + c->non_trainable + (opt ? c->optimizer : 0);
    double total_bytes = c->trainable_bytes + c->non_trainable_bytes;
    if (opt) total_bytes += c->optimizer_bytes;
    ck_buf out = {0};
    k3_footer_line(&out, "Total", total, total_bytes, console);
    k3_footer_line(&out, "Trainable", c->trainable, c->trainable_bytes, console);
    k3_footer_line(&out, "Non-trainable", c->non_trainable, c->non_trainable_bytes, console);
    if (opt) k3_footer_line(&out, "Optimizer", c->optimizer, c->optimizer_bytes, console);
    return sb_finish(&out, err);
}

static void k2_footer_line(ck_buf *out, const char *label, int64_t count, double bytes) {
    char size[64], line[192];
    ck_format_bytes(bytes, "Byte", size, sizeof size);
    snprintf(line, sizeof line, "%s params: %lld (%s)\n", label, (long long)count, size);
    ck_buf_put(out, line);
}

char *ck_table_footer_keras2(const ck_table_counts *c, int line_length, const char **err) {
    if (!c) {
        if (err) *err = ERR_ARG;
        return NULL;
    }
    ck_buf out = {0};
    k2_footer_line(&out, "Total", c->trainable + c->non_trainable,
                   c->trainable_bytes + c->non_trainable_bytes);
    k2_footer_line(&out, "Trainable", c->trainable, c->trainable_bytes);
    k2_footer_line(&out, "Non-trainable", c->non_trainable, c->non_trainable_bytes);
    k2_bar(&out, 0, "_", line_length);
    return sb_finish(&out, err);
}

/* Numeric CSV data for fit/evaluate/predict: a header row of column names, then
 * one sample per line, comma-separated numbers (what pandas.DataFrame.to_csv(index=
 * False) and numpy.savetxt(delimiter=",", header=..., comments="") write). One
 * named column can be split off as the labels. Blank lines, a UTF-8 byte-order
 * mark, CRLF line ends, spaces around fields and double-quoted fields are
 * accepted; anything else that is not a number is refused with file:line:column,
 * so a typo never becomes a silent 0. */
#include "core/core.h"
#include "io/io.h"

#include <ckeras.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One field of a line: [start, end) after trimming spaces and one pair of quotes. */
typedef struct field {
    const char *start, *end;
    int column;  /* 1-based character column of the field's first byte */
} field;

typedef struct cursor {
    const char *path;
    const char *p, *text_end;
    const char *line, *line_end; /* the current line, without its '\n' / "\r\n" */
    int64_t line_no;
} cursor;

static bool is_blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

/* Advances to the next non-blank line; false at the end of the text. */
static bool next_line(cursor *c)
{
    while (c->p < c->text_end) {
        const char *nl = memchr(c->p, '\n', (size_t)(c->text_end - c->p));
        const char *e = nl ? nl : c->text_end;
        c->line = c->p;
        c->line_end = (e > c->p && e[-1] == '\r') ? e - 1 : e;
        c->p = nl ? nl + 1 : c->text_end;
        c->line_no++;
        if (!is_blank(c->line, c->line_end)) return true;
    }
    return false;
}

/* Splits the current line; *n receives the count (fields may be NULL to count). */
static ck_status split_line(const cursor *c, field *fields, int cap, int *n)
{
    int k = 0;
    const char *s = c->line;
    for (;;) {
        const char *e = s;
        bool quoted = false;
        while (e < c->line_end && (*e == ' ' || *e == '\t')) e++;
        if (e < c->line_end && *e == '"') { /* a quoted field runs to its closing quote */
            const char *q = memchr(e + 1, '"', (size_t)(c->line_end - e - 1));
            if (!q) return ck_fail(CK_ERR_FORMAT, "%s:%lld:%d: unterminated quoted field", c->path,
                                   (long long)c->line_no, (int)(e - c->line) + 1);
            quoted = true;
            e = q + 1;
        }
        const char *comma = memchr(e, ',', (size_t)(c->line_end - e));
        const char *fe = comma ? comma : c->line_end;
        if (fields && k < cap) {
            field *f = &fields[k];
            f->start = s, f->end = fe;
            while (f->start < f->end && (*f->start == ' ' || *f->start == '\t')) f->start++;
            while (f->end > f->start && (f->end[-1] == ' ' || f->end[-1] == '\t')) f->end--;
            if (quoted && f->end - f->start >= 2 && *f->start == '"' && f->end[-1] == '"') f->start++, f->end--;
            f->column = (int)(s - c->line) + 1;
        }
        k++;
        if (!comma) break;
        s = comma + 1;
    }
    *n = k;
    return CK_OK;
}

static ck_status parse_number(const cursor *c, const field *f, const char *name, float *out)
{
    char *end = NULL;
    double v = f->end > f->start ? strtod(f->start, &end) : 0.0;
    if (f->end == f->start)
        return ck_fail(CK_ERR_FORMAT, "%s:%lld:%d: empty value in column '%s'", c->path, (long long)c->line_no,
                       f->column, name);
    if (end != f->end)
        return ck_fail(CK_ERR_FORMAT, "%s:%lld:%d: '%.*s' in column '%s' is not a number", c->path,
                       (long long)c->line_no, f->column, (int)(f->end - f->start > 40 ? 40 : f->end - f->start),
                       f->start, name);
    *out = (float)v;
    return CK_OK;
}

/* The header: column names, each NUL-terminated in names[i] (one allocation). */
typedef struct header {
    int n;
    char **names;
} header;

static void header_free(header *h)
{
    if (h->names) ck_free(h->names[0]);
    ck_free(h->names);
    memset(h, 0, sizeof *h);
}

static ck_status read_header(cursor *c, header *h)
{
    if (!next_line(c)) return ck_fail(CK_ERR_FORMAT, "%s: empty file (a header row of column names is required)", c->path);
    int n;
    ck_status st = split_line(c, NULL, 0, &n);
    if (st) return st;
    field *f = ck_calloc((size_t)n, sizeof *f);
    h->names = ck_calloc((size_t)n, sizeof *h->names);
    char *text = ck_malloc((size_t)(c->line_end - c->line) + (size_t)n + 1);
    if (!f || !h->names || !text) {
        ck_free(f), ck_free(text);
        return ck_fail(CK_ERR_NOMEM, "%s: out of memory", c->path);
    }
    split_line(c, f, n, &n);
    h->n = n;
    bool all_numbers = true;
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)(f[i].end - f[i].start);
        memcpy(text, f[i].start, len);
        text[len] = 0;
        h->names[i] = text;
        text += len + 1;
        char *end;
        strtod(h->names[i], &end);
        all_numbers = all_numbers && len > 0 && *end == 0;
    }
    ck_free(f);
    if (all_numbers) /* a file without a header would silently lose its first sample */
        return ck_fail(CK_ERR_FORMAT, "%s:%lld: the first row must be a header of column names; it holds only numbers",
                       c->path, (long long)c->line_no);
    return CK_OK;
}

static int find_column(const header *h, const char *name)
{
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->names[i], name)) return i;
    return -1;
}

static ck_status unknown_column(const char *path, const header *h, const char *name)
{
    ck_buf b = {0};
    for (int i = 0; i < h->n && i < 20; i++) ck_buf_printf(&b, "%s'%s'", i ? ", " : "", h->names[i]);
    ck_status st = ck_fail(CK_ERR_ARG, "%s: no column named '%s' (columns: %s%s)", path, name,
                           b.data ? b.data : "", h->n > 20 ? ", ..." : "");
    ck_buf_free(&b);
    return st;
}

static int64_t count_rows(cursor c)
{
    int64_t n = 0;
    while (next_line(&c)) n++;
    return n;
}

/* Every data row into x (and the label column into y when label >= 0). */
static ck_status read_rows(cursor *c, const header *h, int label, float *x, float *y)
{
    field *f = ck_calloc((size_t)h->n, sizeof *f);
    if (!f) return ck_fail(CK_ERR_NOMEM, "%s: out of memory", c->path);
    ck_status st = CK_OK;
    while (!st && next_line(c)) {
        int n;
        if ((st = split_line(c, f, h->n, &n))) break;
        if (n != h->n) {
            st = ck_fail(CK_ERR_FORMAT, "%s:%lld: %d fields, the header has %d", c->path, (long long)c->line_no, n, h->n);
            break;
        }
        for (int i = 0; !st && i < n; i++) st = parse_number(c, &f[i], h->names[i], i == label ? y++ : x++);
    }
    ck_free(f);
    return st;
}

ck_status ck_csv_read(const char *path, const char *label_column, ck_array *x, ck_array *y)
{
    if (!path || !x || (label_column && !y)) return ck_fail(CK_ERR_ARG, "ck_csv_read: NULL argument");
    memset(x, 0, sizeof *x);
    if (y) memset(y, 0, sizeof *y);
    char *text;
    size_t len;
    ck_status st = ck_read_file(path, &text, &len);
    if (st) return st;
    cursor c = {.path = path, .p = text, .text_end = text + len};
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) c.p += 3; /* UTF-8 BOM (Excel) */
    header h = {0};
    int label = -1;
    st = read_header(&c, &h);
    if (!st && label_column && (label = find_column(&h, label_column)) < 0) st = unknown_column(path, &h, label_column);
    int64_t rows = st ? 0 : count_rows(c), cols = h.n - (label >= 0);
    if (!st && rows == 0) st = ck_fail(CK_ERR_FORMAT, "%s: no data rows after the header", path);
    if (!st && cols == 0) st = ck_fail(CK_ERR_FORMAT, "%s: no feature columns besides the label '%s'", path, label_column);
    int64_t total;
    if (!st && !ck_mul_ok(rows, cols, &total)) st = ck_fail(CK_ERR_OVERFLOW, "%s: too many values", path);
    if (!st) {
        *x = (ck_array){.dtype = CK_FLOAT32, .shape = {.rank = 2, .dim = {rows, cols}}};
        x->data = ck_malloc((size_t)total * sizeof(float));
        if (label >= 0) {
            *y = (ck_array){.dtype = CK_FLOAT32, .shape = {.rank = 1, .dim = {rows}}};
            y->data = ck_malloc((size_t)rows * sizeof(float));
        }
        if (!x->data || (label >= 0 && !y->data)) st = ck_fail(CK_ERR_NOMEM, "%s: out of memory", path);
    }
    if (!st) st = read_rows(&c, &h, label, x->data, label >= 0 ? y->data : NULL);
    if (st) {
        ck_array_free(x);
        if (y) ck_array_free(y);
    }
    header_free(&h);
    ck_free(text);
    return st;
}

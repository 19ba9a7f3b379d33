/* ck_csv_read: the CSV dialects that pandas, numpy.savetxt and spreadsheets write
 * (header row, CRLF, BOM, quotes, blank lines) read to the right values, the label
 * column split off by name, and every malformed file refused with a message that
 * names file:line:column and the column, never a crash or a silent zero. */
#include "testutil.h"

#include <unistd.h>

static char tmp[256];

static const char *write_tmp(const char *name, const char *text)
{
    snprintf(tmp, sizeof tmp, "/tmp/ckeras_test_csv_%d_%s.csv", (int)getpid(), name);
    FILE *f = fopen(tmp, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return tmp;
}

static void check_floats(const char *what, const ck_array *a, const float *want, int64_t n)
{
    CHECK(ck_array_size(a) == n, "%s: %lld values, want %lld", what, (long long)ck_array_size(a), (long long)n);
    for (int64_t i = 0; i < n && i < ck_array_size(a); i++)
        CHECK(((float *)a->data)[i] == want[i], "%s[%lld]: %g, want %g", what, (long long)i, ((float *)a->data)[i],
              want[i]);
}

static void test_dialects(void)
{
    const char *p = write_tmp("dialect", "\xEF\xBB\xBF" "a, \"the, label\" ,c\r\n"
                                         "1,0,2.5\r\n"
                                         "\r\n"
                                         "  -3e-1 , \"1\",4\r\n"
                                         "5,2,6");
    ck_array x, y;
    CHECK_OK(ck_csv_read(p, "the, label", &x, &y));
    CHECK(x.shape.rank == 2 && x.shape.dim[0] == 3 && x.shape.dim[1] == 2, "x shape (%lld, %lld)",
          (long long)x.shape.dim[0], (long long)x.shape.dim[1]);
    CHECK(y.shape.rank == 1 && y.shape.dim[0] == 3, "y rank %d", y.shape.rank);
    check_floats("x", &x, (const float[]){1, 2.5f, -0.3f, 4, 5, 6}, 6);
    check_floats("y", &y, (const float[]){0, 1, 2}, 3);
    ck_array_free(&x), ck_array_free(&y);

    CHECK_OK(ck_csv_read(p, NULL, &x, NULL)); /* no label: every column */
    CHECK(x.shape.dim[0] == 3 && x.shape.dim[1] == 3, "all columns: (%lld, %lld)", (long long)x.shape.dim[0],
          (long long)x.shape.dim[1]);
    check_floats("all", &x, (const float[]){1, 0, 2.5f, -0.3f, 1, 4, 5, 2, 6}, 9);
    ck_array_free(&x);
    remove(p);
}

/* A file that must fail with a message containing `want`. */
static void check_bad(const char *name, const char *text, const char *label, const char *want)
{
    const char *p = write_tmp(name, text);
    ck_array x, y;
    ck_status st = ck_csv_read(p, label, &x, &y);
    CHECK(st != CK_OK, "%s: accepted", name);
    CHECK(strstr(ck_errmsg(), want) && strstr(ck_errmsg(), p), "%s: message '%s' lacks '%s' or the path", name,
          ck_errmsg(), want);
    CHECK(x.data == NULL && y.data == NULL, "%s: arrays left allocated", name);
    remove(p);
}

static void test_errors(void)
{
    check_bad("word", "a,b\n1,2\n3,abc\n", "b", ":3:3: 'abc' in column 'b' is not a number");
    check_bad("empty_field", "a,b\n1,\n", "b", ":2:3: empty value in column 'b'");
    check_bad("short", "a,b,c\n1,2,3\n\n4,5\n", "c", ":4: 2 fields, the header has 3");
    check_bad("long", "a,b\n1,2,3\n", "b", ":2: 3 fields, the header has 2");
    check_bad("label", "x1,x2,y\n1,2,3\n", "target", "no column named 'target' (columns: 'x1', 'x2', 'y')");
    check_bad("nothing", "", NULL, "empty file (a header row of column names is required)");
    check_bad("blank", "\n \n", NULL, "empty file");
    check_bad("header_only", "a,b\n", "a", "no data rows after the header");
    check_bad("numeric_header", "1,2\n3,4\n", NULL, ":1: the first row must be a header of column names");
    check_bad("quote", "a,\"b\n1,2\n", NULL, ":1:3: unterminated quoted field");
    check_bad("only_label", "y\n1\n", "y", "no feature columns besides the label 'y'");
    check_bad("trailing", "a,b\n1,2x\n", NULL, ":2:3: '2x' in column 'b' is not a number");
    ck_array x;
    CHECK(ck_csv_read("/nonexistent/d.csv", NULL, &x, NULL) == CK_ERR_IO && strstr(ck_errmsg(), "/nonexistent/d.csv"),
          "missing file: %s", ck_errmsg());
}

int main(void)
{
    test_dialects();
    test_errors();
    return test_report("test_csv");
}

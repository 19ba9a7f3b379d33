/* The Python subset of Keras model code, from text to a tree: a tokenizer with
 * Python's indentation rules (INDENT/DEDENT, implicit line joining inside
 * brackets, backslash continuation) and a recursive-descent parser for the
 * statements and expressions the subset has. Everything else stops here with
 * "file:line:column: unsupported Python: <what>". */
#include "io/python_model.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *py_alloc(py_arena *a, size_t bytes)
{
    if (bytes > PY_ARENA_MAX - a->bytes) {
        ck_fail(CK_ERR_NOMEM, "the script's values take more than %zu MiB", PY_ARENA_MAX >> 20);
        return NULL;
    }
    void *p = NULL;
    if (!ck_grow((void **)&a->blocks, &a->cap, a->n + 1, sizeof *a->blocks)) p = ck_calloc(1, bytes ? bytes : 1);
    if (!p) {
        ck_fail(CK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->blocks[a->n++] = p;
    a->bytes += bytes;
    return p;
}

void py_arena_free(py_arena *a)
{
    for (int i = 0; i < a->n; i++) ck_free(a->blocks[i]);
    ck_free(a->blocks);
    *a = (py_arena){0};
}

/* ---- tokens ------------------------------------------------------------------------ */
typedef enum tok_kind { T_END, T_NEWLINE, T_INDENT, T_DEDENT, T_NAME, T_INT, T_FLOAT, T_STR, T_OP } tok_kind;

typedef struct token {
    tok_kind kind;
    int line, col;
    const char *start;
    size_t len;
    char *str;       /* T_STR decoded, T_NAME copied */
    int64_t ival;
    double fval;
} token;

typedef struct parser {
    const char *origin;
    py_arena *arena;
    const char *p;          /* next character                                */
    const char *line_start;
    int line;
    int depth;              /* open brackets: newlines do not count inside   */
    int indents[64];
    int n_indents;
    int pending_dedents;
    bool at_line_start;
    int nesting;            /* expression recursion, bounded so input cannot blow the stack */
    token tok;              /* the current token                              */
    ck_status error;
} parser;

static ck_status syntax(parser *ps, int line, int col, const char *fmt, const char *what)
{
    if (ps->error) return ps->error;
    char msg[300];
    snprintf(msg, sizeof msg, fmt, what);
    ps->error = ck_fail(CK_ERR_UNSUPPORTED, "%s:%d:%d: %s", ps->origin, line, col, msg);
    return ps->error;
}

static ck_status unsupported(parser *ps, const token *t, const char *what)
{
    return syntax(ps, t->line, t->col, "unsupported Python: %s", what);
}

static char *arena_strndup(parser *ps, const char *s, size_t n)
{
    char *d = py_alloc(ps->arena, n + 1);
    if (d) memcpy(d, s, n);
    return d;
}

/* A string literal's body with Python's escapes; prefixes r/b/f are not in the subset. */
static ck_status lex_string(parser *ps, token *t)
{
    char q = *ps->p;
    bool triple = ps->p[1] == q && ps->p[2] == q;
    const char *s = ps->p + (triple ? 3 : 1);
    ck_buf b = {0};
    for (;;) {
        if (!*s || (!triple && *s == '\n')) {
            ck_buf_free(&b);
            return syntax(ps, t->line, t->col, "%s", "unterminated string literal");
        }
        if (*s == q && (!triple || (s[1] == q && s[2] == q))) break;
        if (*s == '\n') ps->line++, ps->line_start = s + 1;
        if (*s != '\\') {
            ck_buf_putn(&b, s++, 1);
            continue;
        }
        char e = s[1], c;
        switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '\\': c = '\\'; break;
        case '\'': c = '\''; break;
        case '"': c = '"'; break;
        case '\n': s += 2; ps->line++; ps->line_start = s; continue;
        default: ck_buf_free(&b); return unsupported(ps, t, "this escape sequence in a string");
        }
        ck_buf_putn(&b, &c, 1);
        s += 2;
    }
    ps->p = s + (triple ? 3 : 1);
    t->kind = T_STR;
    t->str = arena_strndup(ps, b.data ? b.data : "", b.len);
    ck_buf_free(&b);
    return t->str ? CK_OK : CK_ERR_NOMEM;
}

static ck_status lex_number(parser *ps, token *t)
{
    const char *s = ps->p;
    while (isdigit((unsigned char)*s) || *s == '_') s++;
    bool is_float = *s == '.' || *s == 'e' || *s == 'E';
    if (*s == 'x' || *s == 'o' || *s == 'b' || *s == 'j') return unsupported(ps, t, "this number literal");
    char buf[64];
    size_t n = 0;
    const char *e = ps->p;
    if (is_float) {
        errno = 0;
        char *end;
        strtod(ps->p, &end);
        e = end;
    } else {
        e = s;
    }
    for (const char *c = ps->p; c < e && n + 1 < sizeof buf; c++)
        if (*c != '_') buf[n++] = *c;
    buf[n] = '\0';
    errno = 0;
    if (is_float) {
        t->kind = T_FLOAT;
        t->fval = strtod(buf, NULL);
    } else {
        t->kind = T_INT;
        t->ival = strtoll(buf, NULL, 10);
        if (errno) return unsupported(ps, t, "integers beyond 64 bits");
    }
    ps->p = e;
    if (isalpha((unsigned char)*ps->p)) return unsupported(ps, t, "this number literal");
    return CK_OK;
}

static const char *const operators[] = {
    "**=", "//=", ">>=", "<<=", "->", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=",
    "&=", "|=", "^=", ":=", "<<", ">>", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=", "+", "-",
    "*", "/", "%", "<", ">", "@", "&", "|", "^", "~",
};

/* Reads the next token into ps->tok, producing NEWLINE, INDENT and DEDENT. */
static ck_status next(parser *ps)
{
    token *t = &ps->tok;
    *t = (token){0};
    if (ps->error) return ps->error;
    if (ps->pending_dedents) {
        ps->pending_dedents--;
        t->kind = T_DEDENT;
        t->line = ps->line;
        return CK_OK;
    }
    for (;;) {
        if (ps->at_line_start && ps->depth == 0) {
            /* indentation of a line that holds something */
            const char *s = ps->p;
            int width = 0;
            while (*s == ' ' || *s == '\t') width = *s == '\t' ? (width / 8 + 1) * 8 : width + 1, s++;
            if (*s == '#') while (*s && *s != '\n') s++;
            if (*s == '\n' || *s == '\r') {
                ps->p = s + (*s == '\r' && s[1] == '\n' ? 2 : 1);
                ps->line++;
                ps->line_start = ps->p;
                continue;
            }
            ps->p = s;
            ps->at_line_start = false;
            t->line = ps->line;
            t->col = (int)(s - ps->line_start) + 1;
            if (!*s) width = 0;
            int top = ps->n_indents ? ps->indents[ps->n_indents - 1] : 0;
            if (width > top) {
                if (ps->n_indents == 64) return unsupported(ps, t, "nesting this deep");
                ps->indents[ps->n_indents++] = width;
                t->kind = T_INDENT;
                return CK_OK;
            }
            while (width < (ps->n_indents ? ps->indents[ps->n_indents - 1] : 0)) {
                ps->n_indents--;
                ps->pending_dedents++;
            }
            if (width != (ps->n_indents ? ps->indents[ps->n_indents - 1] : 0))
                return syntax(ps, t->line, t->col, "%s", "unindent does not match any outer indentation level");
            if (ps->pending_dedents) {
                ps->pending_dedents--;
                t->kind = T_DEDENT;
                return CK_OK;
            }
        }
        while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
        if (*ps->p == '#') while (*ps->p && *ps->p != '\n') ps->p++;
        if (*ps->p == '\\' && (ps->p[1] == '\n' || (ps->p[1] == '\r' && ps->p[2] == '\n'))) {
            ps->p += ps->p[1] == '\n' ? 2 : 3;
            ps->line++;
            ps->line_start = ps->p;
            continue;
        }
        t->line = ps->line;
        t->col = (int)(ps->p - ps->line_start) + 1;
        t->start = ps->p;
        if (*ps->p == '\n') {
            ps->p++;
            ps->line++;
            ps->line_start = ps->p;
            if (ps->depth > 0) continue;
            ps->at_line_start = true;
            t->kind = T_NEWLINE;
            return CK_OK;
        }
        if (!*ps->p) {
            /* the last line may lack its newline; then close every block */
            if (ps->n_indents) {
                ps->pending_dedents = ps->n_indents - 1;
                ps->n_indents = 0;
                t->kind = T_DEDENT;
            } else {
                t->kind = T_END;
            }
            return CK_OK;
        }
        break;
    }
    unsigned char c = (unsigned char)*ps->p;
    if (isalpha(c) || c == '_' || c >= 0x80) {
        const char *s = ps->p;
        while (isalnum((unsigned char)*s) || *s == '_' || (unsigned char)*s >= 0x80) s++;
        if ((*s == '\'' || *s == '"') && s - ps->p <= 2)
            return unsupported(ps, t, "string prefixes (f-strings, raw and byte strings)");
        t->kind = T_NAME;
        t->len = (size_t)(s - ps->p);
        t->str = arena_strndup(ps, ps->p, t->len);
        ps->p = s;
        return t->str ? CK_OK : CK_ERR_NOMEM;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)ps->p[1]))) return lex_number(ps, t);
    if (c == '\'' || c == '"') return lex_string(ps, t);
    for (int i = 0; i < CK_N_OF(operators); i++) {
        size_t n = strlen(operators[i]);
        if (!strncmp(ps->p, operators[i], n)) {
            t->kind = T_OP;
            t->len = n;
            ps->p += n;
            if (strchr("([{", c) && n == 1) ps->depth++;
            if (strchr(")]}", c) && n == 1 && ps->depth > 0) ps->depth--;
            return CK_OK;
        }
    }
    char what[64];
    snprintf(what, sizeof what, "the character '%c'", c);
    return syntax(ps, t->line, t->col, "invalid syntax: %s", what);
}

static bool is_op(const parser *ps, const char *op)
{
    return ps->tok.kind == T_OP && ps->tok.len == strlen(op) && !strncmp(ps->tok.start, op, ps->tok.len);
}

static bool is_name(const parser *ps, const char *name)
{
    return ps->tok.kind == T_NAME && !strcmp(ps->tok.str, name);
}

static ck_status expect_op(parser *ps, const char *op)
{
    if (!is_op(ps, op)) {
        char what[32];
        snprintf(what, sizeof what, "'%s' expected", op);
        return syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", what);
    }
    return next(ps);
}

static py_node *node_new(parser *ps, py_kind kind, const token *at)
{
    py_node *n = py_alloc(ps->arena, sizeof *n);
    if (!n) {
        ps->error = CK_ERR_NOMEM;
        return NULL;
    }
    n->kind = kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

static ck_status push(parser *ps, py_node *list, py_node *item, char *name)
{
    if (list->n == list->cap) {
        int cap = list->cap ? list->cap * 2 : 4;
        py_node **items = py_alloc(ps->arena, (size_t)cap * sizeof *items);
        char **names = py_alloc(ps->arena, (size_t)cap * sizeof *names);
        if (!items || !names) return ps->error = CK_ERR_NOMEM;
        if (list->n) {
            memcpy(items, list->items, (size_t)list->n * sizeof *items);
            memcpy(names, list->names, (size_t)list->n * sizeof *names);
        }
        list->items = items;
        list->names = names;
        list->cap = cap;
    }
    list->items[list->n] = item;
    list->names[list->n++] = name;
    return CK_OK;
}

/* ---- expressions ------------------------------------------------------------------------- */
/* Bounds on the tree's depth (nested brackets, signs, powers, and operator chains,
 * which make left-deep trees), so no input can exhaust the parser's or the
 * evaluator's stack. */
#define MAX_NESTING 200
static py_node *expression(parser *ps);

/* Words that start statements or expressions outside the subset. */
static const char *const foreign_words[] = {"lambda", "yield", "await", "async", "def", "class", "while", "with",
                                            "try", "except", "finally", "return", "raise", "del", "global",
                                            "nonlocal", "assert", "break", "continue", "is", "in", "elif", "else"};

static bool is_foreign_word(const char *s)
{
    for (int i = 0; i < CK_N_OF(foreign_words); i++)
        if (!strcmp(s, foreign_words[i])) return true;
    return false;
}

/* The items of a bracketed display or call, up to `close`; a call's items may be
 * keyword=value. Returns whether a trailing comma was seen (tuples). */
static bool items(parser *ps, py_node *list, const char *close, bool call, bool dict)
{
    bool comma = false;
    while (!ps->error && !is_op(ps, close)) {
        token at = ps->tok;
        if (is_op(ps, "*") || is_op(ps, "**")) {
            unsupported(ps, &at, "argument unpacking (* and **)");
            return false;
        }
        char *kw = NULL;
        if (call && ps->tok.kind == T_NAME) {
            /* keyword=value: look ahead one token without consuming the name */
            parser save = *ps;
            char *name = ps->tok.str;
            next(ps);
            if (is_op(ps, "=")) {
                kw = name;
                next(ps);
            } else {
                *ps = save;
            }
        }
        py_node *v = expression(ps);
        if (!v) return false;
        if (is_name(ps, "for")) {
            unsupported(ps, &ps->tok, "comprehensions");
            return false;
        }
        push(ps, list, v, kw);
        if (dict) {
            if (expect_op(ps, ":")) return false;
            py_node *val = expression(ps);
            if (!val) return false;
            push(ps, list, val, NULL);
        }
        comma = false;
        if (!is_op(ps, ",")) break;
        comma = true;
        next(ps);
    }
    expect_op(ps, close);
    return comma;
}

static py_node *atom(parser *ps)
{
    token t = ps->tok;
    py_node *n = NULL;
    switch (t.kind) {
    case T_NAME:
        if (is_foreign_word(t.str)) {
            char what[64];
            snprintf(what, sizeof what, "'%s'", t.str);
            unsupported(ps, &t, what);
            return NULL;
        }
        n = node_new(ps, !strcmp(t.str, "True") ? PY_TRUE : !strcmp(t.str, "False") ? PY_FALSE
                         : !strcmp(t.str, "None") ? PY_NONE : PY_NAME, &t);
        if (n) n->str = t.str;
        next(ps);
        return n;
    case T_INT:
        if ((n = node_new(ps, PY_INT, &t))) n->ival = t.ival;
        next(ps);
        return n;
    case T_FLOAT:
        if ((n = node_new(ps, PY_FLOAT, &t))) n->fval = t.fval;
        next(ps);
        return n;
    case T_STR: {
        /* adjacent literals concatenate */
        ck_buf b = {0};
        while (ps->tok.kind == T_STR && !ps->error) {
            ck_buf_put(&b, ps->tok.str);
            next(ps);
        }
        if ((n = node_new(ps, PY_STR, &t))) n->str = arena_strndup(ps, b.data ? b.data : "", b.len);
        ck_buf_free(&b);
        return n;
    }
    case T_OP:
        if (is_op(ps, "(") || is_op(ps, "[") || is_op(ps, "{")) {
            const char *close = is_op(ps, "(") ? ")" : is_op(ps, "[") ? "]" : "}";
            bool paren = *close == ')', dict = *close == '}';
            next(ps);
            n = node_new(ps, paren ? PY_TUPLE : dict ? PY_DICT : PY_LIST, &t);
            if (!n) return NULL;
            bool comma = items(ps, n, close, false, dict);
            /* (x) is x; (x,) and () are tuples */
            if (paren && n->n == 1 && !comma) return n->items[0];
            return ps->error ? NULL : n;
        }
        break;
    default: break;
    }
    if (t.kind == T_NEWLINE || t.kind == T_END || t.kind == T_INDENT || t.kind == T_DEDENT)
        syntax(ps, t.line, t.col, "invalid syntax: %s", "an expression expected");
    else
        unsupported(ps, &t, "this expression");
    return NULL;
}

static py_node *primary(parser *ps)
{
    py_node *n = atom(ps);
    while (n && !ps->error) {
        token t = ps->tok;
        if (is_op(ps, ".")) {
            next(ps);
            if (ps->tok.kind != T_NAME) {
                syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "a name expected after '.'");
                return NULL;
            }
            py_node *a = node_new(ps, PY_ATTR, &t);
            if (!a) return NULL;
            a->a = n;
            a->str = ps->tok.str;
            a->line = n->line, a->col = n->col;
            next(ps);
            n = a;
        } else if (is_op(ps, "(")) {
            next(ps);
            py_node *c = node_new(ps, PY_CALL, &t);
            if (!c) return NULL;
            c->a = n;
            c->line = n->line, c->col = n->col;
            items(ps, c, ")", true, false);
            n = c;
        } else if (is_op(ps, "[")) {
            next(ps);
            py_node *x = node_new(ps, PY_INDEX, &t);
            if (!x) return NULL;
            x->a = n;
            x->line = n->line, x->col = n->col;
            if (!(x->b = expression(ps))) return NULL;
            if (is_op(ps, ":") || is_op(ps, ",")) {
                unsupported(ps, &ps->tok, "slices");
                return NULL;
            }
            expect_op(ps, "]");
            n = x;
        } else {
            break;
        }
    }
    return ps->error ? NULL : n;
}

static py_node *unary(parser *ps);

static py_node *power(parser *ps)
{
    py_node *n = primary(ps);
    if (n && is_op(ps, "**")) {
        token t = ps->tok;
        if (++ps->nesting > MAX_NESTING) {
            unsupported(ps, &t, "expressions nested this deep");
            return NULL;
        }
        next(ps);
        py_node *b = node_new(ps, PY_BINARY, &t);
        if (!b) return NULL;
        b->op = 'p';
        b->a = n;
        if (!(b->b = unary(ps))) return NULL;
        ps->nesting--;
        return b;
    }
    return n;
}

static py_node *unary(parser *ps)
{
    if (is_op(ps, "-") || is_op(ps, "+")) {
        token t = ps->tok;
        if (++ps->nesting > MAX_NESTING) {
            unsupported(ps, &t, "expressions nested this deep");
            return NULL;
        }
        next(ps);
        py_node *u = node_new(ps, PY_UNARY, &t);
        if (!u) return NULL;
        u->op = *t.start;
        if (!(u->a = unary(ps))) return NULL;
        ps->nesting--;
        return u;
    }
    if (is_op(ps, "~")) {
        unsupported(ps, &ps->tok, "bitwise operators");
        return NULL;
    }
    return power(ps);
}

static py_node *binary(parser *ps, int level);

static const char *const level_ops[][5] = {
    {"+", "-", NULL},
    {"*", "/", "//", "%", NULL},
};

static py_node *binary(parser *ps, int level)
{
    if (level == 2) return unary(ps);
    py_node *n = binary(ps, level + 1);
    for (int chain = 0; n && !ps->error; chain++) {
        if (chain > MAX_NESTING) {
            unsupported(ps, &ps->tok, "expressions this long");
            return NULL;
        }
        int op = 0;
        for (int i = 0; level_ops[level][i]; i++)
            if (is_op(ps, level_ops[level][i])) op = !strcmp(level_ops[level][i], "//") ? 'f' : *level_ops[level][i];
        if (!op) {
            if (is_op(ps, "@") || is_op(ps, "&") || is_op(ps, "|") || is_op(ps, "^") || is_op(ps, "<<") ||
                is_op(ps, ">>"))
                unsupported(ps, &ps->tok, "bitwise and matrix operators");
            break;
        }
        token t = ps->tok;
        next(ps);
        py_node *b = node_new(ps, PY_BINARY, &t);
        if (!b) return NULL;
        b->op = op;
        b->a = n;
        b->line = n->line, b->col = n->col;
        if (!(b->b = binary(ps, level + 1))) return NULL;
        n = b;
    }
    return ps->error ? NULL : n;
}

static py_node *comparison(parser *ps)
{
    py_node *n = binary(ps, 0);
    static const struct { const char *text; int op; } cmps[] = {
        {"==", 'e'}, {"!=", 'n'}, {"<=", 'l'}, {">=", 'g'}, {"<", '<'}, {">", '>'},
    };
    while (n && !ps->error) {
        int op = 0;
        for (int i = 0; i < CK_N_OF(cmps); i++)
            if (is_op(ps, cmps[i].text)) op = cmps[i].op;
        if (is_name(ps, "in") || is_name(ps, "is") || is_name(ps, "not")) {
            unsupported(ps, &ps->tok, "'in' and 'is' tests");
            return NULL;
        }
        if (!op) break;
        token t = ps->tok;
        next(ps);
        py_node *c = node_new(ps, PY_COMPARE, &t);
        if (!c) return NULL;
        c->op = op;
        c->a = n;
        c->line = n->line, c->col = n->col;
        if (!(c->b = binary(ps, 0))) return NULL;
        n = c;
        if (is_op(ps, "==") || is_op(ps, "<") || is_op(ps, ">") || is_op(ps, "!=")) {
            unsupported(ps, &ps->tok, "chained comparisons");
            return NULL;
        }
    }
    return ps->error ? NULL : n;
}

static py_node *not_test(parser *ps)
{
    if (is_name(ps, "not")) {
        token t = ps->tok;
        if (++ps->nesting > MAX_NESTING) {
            unsupported(ps, &t, "expressions nested this deep");
            return NULL;
        }
        next(ps);
        py_node *n = node_new(ps, PY_NOT, &t);
        if (n && !(n->a = not_test(ps))) return NULL;
        ps->nesting--;
        return n;
    }
    return comparison(ps);
}

static py_node *logical(parser *ps, const char *word, py_kind kind, py_node *(*operand)(parser *))
{
    py_node *n = operand(ps);
    for (int chain = 0; n && is_name(ps, word); chain++) {
        if (chain > MAX_NESTING) {
            unsupported(ps, &ps->tok, "expressions this long");
            return NULL;
        }
        token t = ps->tok;
        next(ps);
        py_node *b = node_new(ps, kind, &t);
        if (!b) return NULL;
        b->a = n;
        if (!(b->b = operand(ps))) return NULL;
        n = b;
    }
    return ps->error ? NULL : n;
}

static py_node *and_test(parser *ps) { return logical(ps, "and", PY_AND, not_test); }

static py_node *expression(parser *ps)
{
    if (++ps->nesting > MAX_NESTING) {
        unsupported(ps, &ps->tok, "expressions nested this deep");
        return NULL;
    }
    py_node *n = logical(ps, "or", PY_OR, and_test);
    ps->nesting--;
    if (n && is_name(ps, "if")) {
        unsupported(ps, &ps->tok, "conditional expressions (x if c else y)");
        return NULL;
    }
    if (n && is_op(ps, ":=")) {
        unsupported(ps, &ps->tok, "assignment expressions (:=)");
        return NULL;
    }
    return n;
}

/* ---- statements ------------------------------------------------------------------------------ */
static py_node *block(parser *ps);

static char *dotted_name(parser *ps)
{
    ck_buf b = {0};
    for (;;) {
        if (ps->tok.kind != T_NAME) {
            ck_buf_free(&b);
            syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "a module name expected");
            return NULL;
        }
        ck_buf_put(&b, ps->tok.str);
        next(ps);
        if (!is_op(ps, ".")) break;
        ck_buf_put(&b, ".");
        next(ps);
    }
    char *s = arena_strndup(ps, b.data, b.len);
    ck_buf_free(&b);
    return s;
}

static char *optional_as(parser *ps, char *bound)
{
    if (!is_name(ps, "as")) return bound;
    next(ps);
    if (ps->tok.kind != T_NAME) {
        syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "a name expected after 'as'");
        return NULL;
    }
    char *name = ps->tok.str;
    next(ps);
    return name;
}

/* import a.b [as c], ... : one PY_IMPORT per module, gathered in a PY_BLOCK */
static py_node *import_stmt(parser *ps, const token *at)
{
    py_node *list = node_new(ps, PY_BLOCK, at);
    while (list && !ps->error) {
        py_node *n = node_new(ps, PY_IMPORT, &ps->tok);
        if (!n || !(n->str = dotted_name(ps))) return NULL;
        /* `import keras.layers` binds `keras` */
        char *first = arena_strndup(ps, n->str, strcspn(n->str, "."));
        char *bound = optional_as(ps, NULL);
        if (ps->error) return NULL;
        if (!bound) {
            n->op = 1; /* bind the top package */
            bound = first;
        }
        push(ps, n, NULL, bound);
        push(ps, list, n, NULL);
        if (!is_op(ps, ",")) break;
        next(ps);
    }
    return ps->error ? NULL : list;
}

static py_node *from_stmt(parser *ps, const token *at)
{
    py_node *n = node_new(ps, PY_FROM, at);
    if (!n) return NULL;
    if (is_op(ps, ".")) {
        unsupported(ps, &ps->tok, "relative imports");
        return NULL;
    }
    if (!(n->str = dotted_name(ps))) return NULL;
    if (!is_name(ps, "import")) {
        syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "'import' expected");
        return NULL;
    }
    next(ps);
    if (is_op(ps, "*")) {
        unsupported(ps, &ps->tok, "'import *'");
        return NULL;
    }
    bool paren = is_op(ps, "(");
    if (paren) next(ps);
    while (!ps->error && ps->tok.kind == T_NAME) {
        py_node *sym = node_new(ps, PY_NAME, &ps->tok);
        if (!sym) return NULL;
        sym->str = ps->tok.str;
        next(ps);
        char *bound = optional_as(ps, sym->str);
        if (!bound) return NULL;
        push(ps, n, sym, bound);
        if (!is_op(ps, ",")) break;
        next(ps);
    }
    if (paren) expect_op(ps, ")");
    if (!ps->error && !n->n) syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "a name to import expected");
    return ps->error ? NULL : n;
}

static py_node *for_stmt(parser *ps, const token *at)
{
    py_node *n = node_new(ps, PY_FOR, at);
    if (!n) return NULL;
    if (ps->tok.kind != T_NAME) {
        unsupported(ps, &ps->tok, "for loops over anything but one name");
        return NULL;
    }
    n->str = ps->tok.str;
    next(ps);
    if (is_op(ps, ",")) {
        unsupported(ps, &ps->tok, "for loops over anything but one name");
        return NULL;
    }
    if (!is_name(ps, "in")) {
        syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "'in' expected");
        return NULL;
    }
    next(ps);
    if (!(n->a = expression(ps)) || expect_op(ps, ":")) return NULL;
    py_node *body = block(ps);
    if (!body) return NULL;
    n->items = body->items;
    n->names = body->names;
    n->n = body->n;
    if (is_name(ps, "else")) {
        unsupported(ps, &ps->tok, "for ... else");
        return NULL;
    }
    return n;
}

static py_node *if_stmt(parser *ps, const token *at)
{
    py_node *n = node_new(ps, PY_IF, at);
    if (!n || !(n->a = expression(ps)) || expect_op(ps, ":")) return NULL;
    py_node *body = block(ps);
    if (!body) return NULL;
    n->items = body->items;
    n->names = body->names;
    n->n = body->n;
    if (is_name(ps, "elif")) {
        token t = ps->tok;
        next(ps);
        py_node *e = node_new(ps, PY_BLOCK, &t);
        py_node *inner = e ? if_stmt(ps, &t) : NULL;
        if (!inner) return NULL;
        push(ps, e, inner, NULL);
        n->b = e;
    } else if (is_name(ps, "else")) {
        next(ps);
        if (expect_op(ps, ":") || !(n->b = block(ps))) return NULL;
    }
    return n;
}

static py_node *simple_stmt(parser *ps)
{
    token t = ps->tok;
    if (is_name(ps, "pass")) {
        next(ps);
        return node_new(ps, PY_PASS, &t);
    }
    py_node *e = expression(ps);
    if (!e) return NULL;
    static const struct { const char *text; int op; } aug[] = {
        {"+=", '+'}, {"-=", '-'}, {"*=", '*'}, {"/=", '/'}, {"//=", 'f'}, {"%=", '%'},
    };
    int op = is_op(ps, "=") ? '=' : 0;
    for (int i = 0; !op && i < CK_N_OF(aug); i++)
        if (is_op(ps, aug[i].text)) op = aug[i].op;
    if (!op) {
        if (is_op(ps, ",")) {
            unsupported(ps, &ps->tok, "tuple unpacking");
            return NULL;
        }
        if (ps->tok.kind == T_OP && !is_op(ps, ";")) {
            unsupported(ps, &ps->tok, "this operator");
            return NULL;
        }
        py_node *s = node_new(ps, PY_EXPR, &t);
        if (s) s->a = e;
        return s;
    }
    if (e->kind != PY_NAME && e->kind != PY_ATTR) {
        unsupported(ps, &t, "assignment to anything but a name or an attribute");
        return NULL;
    }
    token at = ps->tok;
    next(ps);
    py_node *s = node_new(ps, PY_ASSIGN, &t);
    if (!s) return NULL;
    s->a = e;
    s->op = op == '=' ? 0 : op;
    (void)at;
    if (!(s->b = expression(ps))) return NULL;
    if (is_op(ps, "=")) {
        unsupported(ps, &ps->tok, "chained assignment");
        return NULL;
    }
    if (is_op(ps, ",")) {
        unsupported(ps, &ps->tok, "tuple packing in assignments");
        return NULL;
    }
    return s;
}

static ck_status end_of_statement(parser *ps)
{
    if (ps->tok.kind == T_NEWLINE) return next(ps);
    if (ps->tok.kind == T_END || ps->tok.kind == T_DEDENT) return CK_OK;
    if (is_op(ps, ";")) return unsupported(ps, &ps->tok, "several statements on one line (;)");
    return syntax(ps, ps->tok.line, ps->tok.col, "invalid syntax: %s", "end of line expected");
}

static ck_status statement(parser *ps, py_node *into)
{
    token t = ps->tok;
    if (t.kind == T_OP && is_op(ps, "@")) return unsupported(ps, &t, "decorators");
    if (t.kind == T_INDENT) return syntax(ps, t.line, t.col, "%s", "unexpected indent");
    py_node *s = NULL;
    if (is_name(ps, "import")) {
        next(ps);
        s = import_stmt(ps, &t);
    } else if (is_name(ps, "from")) {
        next(ps);
        s = from_stmt(ps, &t);
    } else if (is_name(ps, "for")) {
        next(ps);
        if ((s = for_stmt(ps, &t))) return push(ps, into, s, NULL);
        return ps->error;
    } else if (is_name(ps, "if")) {
        next(ps);
        if ((s = if_stmt(ps, &t))) return push(ps, into, s, NULL);
        return ps->error;
    } else if (t.kind == T_NAME && is_foreign_word(t.str)) {
        char what[64];
        snprintf(what, sizeof what, "'%s' statements", t.str);
        return unsupported(ps, &t, what);
    } else {
        s = simple_stmt(ps);
    }
    if (!s) return ps->error ? ps->error : CK_ERR_UNSUPPORTED;
    ck_status st = push(ps, into, s, NULL);
    return st ? st : end_of_statement(ps);
}

/* The body after a colon: an indented block, or one simple statement on the line. */
static py_node *block(parser *ps)
{
    py_node *b = node_new(ps, PY_BLOCK, &ps->tok);
    if (!b) return NULL;
    if (ps->tok.kind != T_NEWLINE) {
        if (statement(ps, b)) return NULL;
        return b;
    }
    next(ps);
    if (ps->tok.kind != T_INDENT) {
        syntax(ps, ps->tok.line, ps->tok.col, "%s", "expected an indented block");
        return NULL;
    }
    next(ps);
    while (!ps->error && ps->tok.kind != T_DEDENT && ps->tok.kind != T_END)
        if (statement(ps, b)) return NULL;
    if (ps->tok.kind == T_DEDENT) next(ps);
    return ps->error ? NULL : b;
}

ck_status py_parse(const char *origin, const char *text, py_arena *arena, py_node **module)
{
    parser ps = {.origin = origin, .arena = arena, .p = text, .line_start = text, .line = 1, .at_line_start = true};
    /* a UTF-8 byte order mark is allowed, as Python allows it */
    if (!strncmp(ps.p, "\xef\xbb\xbf", 3)) ps.p += 3, ps.line_start = ps.p;
    token start = {.line = 1, .col = 1};
    py_node *m = node_new(&ps, PY_BLOCK, &start);
    if (!m) return CK_ERR_NOMEM;
    next(&ps);
    while (!ps.error && ps.tok.kind != T_END) {
        if (ps.tok.kind == T_NEWLINE || ps.tok.kind == T_DEDENT) {
            next(&ps);
            continue;
        }
        statement(&ps, m);
    }
    if (ps.error) return ps.error;
    *module = m;
    return CK_OK;
}

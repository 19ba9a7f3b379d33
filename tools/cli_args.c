/* The command table turned into a parser (getopt_long), --help, man pages and
 * shell completion; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_STATUS_TEXT "0 success, 1 error (one line on stderr naming the file, layer and field), 2 usage error"

static int option_count(const cli_command *cmd)
{
    int n = 0;
    while (cmd->options && cmd->options[n].name) n++;
    return n;
}

static int option_index(const cli_command *cmd, const char *name)
{
    for (int i = 0; cmd->options && cmd->options[i].name; i++)
        if (!strcmp(cmd->options[i].name, name)) return i;
    return -1;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (cmd) fprintf(stderr, "ckeras %s: %s (see 'ckeras %s --help')\n", cmd->name, what, cmd->name);
    else fprintf(stderr, "ckeras: %s (see 'ckeras --help')\n", what);
    return 2;
}

/* A range message that reads naturally for open-ended ranges. */
static int range_error(const cli_command *cmd, const cli_option *o, const char *v)
{
    if (o->max >= 1e15) return cli_usage_error(cmd, "--%s must be at least %g, got '%s'", o->name, o->min, v);
    return cli_usage_error(cmd, "--%s must be between %g and %g, got '%s'", o->name, o->min, o->max, v);
}

static bool has_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && !strncmp(c, v, n)) return true;
        c += len + (bar != NULL);
    }
    return false;
}

static int check_value(const cli_command *cmd, const cli_option *o, const char *v)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case CLI_INT: {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno) return cli_usage_error(cmd, "--%s wants an integer, got '%s'", o->name, v);
        if ((o->min || o->max) && (x < o->min || x > o->max)) return range_error(cmd, o, v);
        return 0;
    }
    case CLI_NUMBER: {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x))
            return cli_usage_error(cmd, "--%s wants a number, got '%s'", o->name, v);
        if ((o->min || o->max) && (x < o->min || x > o->max)) return range_error(cmd, o, v);
        return 0;
    }
    case CLI_CHOICE:
        if (!has_choice(o->choices, v))
            return cli_usage_error(cmd, "--%s is one of %s, got '%s'", o->name, o->choices, v);
        return 0;
    default:
        if (!*v) return cli_usage_error(cmd, "--%s wants a value, got ''", o->name);
        return 0;
    }
}

static int store(const cli_command *cmd, cli_args *a, int i, const char *v)
{
    const cli_option *o = &cmd->options[i];
    int cap = o->flags & CLI_TWO_VALUES ? 2 : 1;
    if (o->flags & CLI_REPEAT) cap = CLI_MAX_REPEAT;
    if (a->n[i] == cap) {
        if (cap == 1 || cap == 2) a->n[i] = 0; /* given again: the last one counts, as in git */
        else return cli_usage_error(cmd, "--%s given more than %d times", o->name, cap);
    }
    int rc = check_value(cmd, o, v);
    if (!rc) a->val[i][a->n[i]++] = v;
    return rc;
}

/* "missing OUT" for `convert in.keras`: the synopsis word after the npos given. */
static int missing_positional(const cli_command *cmd, int npos)
{
    const char *w = cmd->synopsis;
    for (int k = 0; k < npos && w; k++) {
        w = strchr(w, ' ');
        if (w) w++;
    }
    if (!w || !*w) return cli_usage_error(cmd, "missing %s", cmd->synopsis);
    int len = (int)strcspn(w, " ");
    return cli_usage_error(cmd, "missing %.*s", len, w);
}

/* -o FILE is --output FILE, as in cc, curl and ffmpeg; no other option has a
 * short spelling. Returns the short letter of an option, or 0. */
static char short_name(const cli_option *o)
{
    return o->kind != CLI_FLAG && !strcmp(o->name, "output") ? 'o' : 0;
}

/* How many inputs are "-": the first argument (a model file) and the file
 * options that are read, not written. */
static int stdin_reads(const cli_command *cmd, const cli_args *a)
{
    static const char *const written[] = {"output", "output-dir", "save", "c", "dir"};
    int n = a->npos > 0 && !strcmp(a->pos[0], "-");
    for (int i = 0; cmd->options && cmd->options[i].name; i++) {
        bool out = cmd->options[i].kind != CLI_FILE;
        for (size_t w = 0; !out && w < sizeof written / sizeof *written; w++) out = !strcmp(cmd->options[i].name, written[w]);
        for (int k = 0; !out && k < a->n[i]; k++) n += !strcmp(a->val[i][k], "-");
    }
    return n;
}

/* "unknown option '--epoch'; did you mean '--epochs'?" */
static int unknown_long_option(const cli_command *cmd, const char *arg)
{
    char word[128];
    snprintf(word, sizeof word, "%s", arg + strspn(arg, "-"));
    word[strcspn(word, "=")] = '\0';
    const char *names[CLI_MAX_OPTIONS + 1];
    int n = option_count(cmd);
    for (int i = 0; i < n; i++) names[i] = cmd->options[i].name;
    names[n] = "help";
    const char *near = arg[0] == '-' && arg[1] == '-' ? cli_closest(word, names, n + 1) : NULL;
    if (near) return cli_usage_error(cmd, "unknown option '%s'; did you mean '--%s'?", arg, near);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    int nopt = option_count(cmd);
    struct option longopts[CLI_MAX_OPTIONS + 2];
    for (int i = 0; i < nopt; i++)
        longopts[i] = (struct option){cmd->options[i].name, cmd->options[i].kind == CLI_FLAG ? no_argument : required_argument,
                                      NULL, 256 + i};
    longopts[nopt] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[nopt + 1] = (struct option){0};
    char *av[argc + 2];
    av[0] = (char *)cmd->name;
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    av[argc + 1] = NULL;
    int ac = argc + 1, c;
    opterr = 0;
    optind = 0; /* glibc: a fresh scan */
    int out = option_index(cmd, "output");
    bool has_o = out >= 0 && short_name(&cmd->options[out]);
    while ((c = getopt_long(ac, av, has_o ? "ho:" : "h", longopts, NULL)) != -1) {
        if (c == 'o') c = 256 + out;
        if (c == 'h') {
            cli_print_help(cmd, stdout);
            return -1;
        }
        if (c == '?') {
            /* a flag's '?' is a value given to it (--flag=x); another's, none given */
            if (optopt >= 256)
                return cli_usage_error(cmd, cmd->options[optopt - 256].kind == CLI_FLAG ? "--%s takes no value"
                                                                                         : "--%s needs a value",
                                       cmd->options[optopt - 256].name);
            if (has_o && optopt == 'o') return cli_usage_error(cmd, "-o needs a value");
            /* an unknown letter, maybe inside a cluster (-zq), where optind has
             * not moved past the argument yet */
            if (optopt > 0) return cli_usage_error(cmd, "unknown option '-%c'", optopt);
            return unknown_long_option(cmd, av[optind - 1]);
        }
        int i = c - 256;
        const cli_option *o = &cmd->options[i];
        if (o->kind == CLI_FLAG) {
            a->val[i][0] = "1";
            a->n[i] = 1;
            continue;
        }
        int rc = store(cmd, a, i, optarg);
        if (rc) return rc;
        if (o->flags & CLI_TWO_VALUES) {
            if (optind >= ac) return cli_usage_error(cmd, "--%s needs two values (%s)", o->name, o->metavar);
            if ((rc = store(cmd, a, i, av[optind++]))) return rc;
        }
    }
    for (int k = optind; k < ac; k++) {
        if (a->npos == cmd->max_pos || a->npos == CLI_MAX_POSITIONAL)
            return cli_usage_error(cmd, "unexpected argument '%s'", av[k]);
        a->pos[a->npos++] = av[k];
    }
    if (a->npos < cmd->min_pos) return missing_positional(cmd, a->npos);
    if (stdin_reads(cmd, a) > 1) return cli_usage_error(cmd, "stdin (-) can be read only once; give the other inputs as files");
    for (int i = 0; i < nopt; i++)
        if ((cmd->options[i].flags & CLI_REQUIRED) && !a->n[i])
            return cli_usage_error(cmd, "--%s is required", cmd->options[i].name);
    return 0;
}

int cli_count(const cli_args *a, const char *name)
{
    int i = option_index(a->cmd, name);
    return i < 0 ? 0 : a->n[i];
}

const char *cli_at(const cli_args *a, const char *name, int k)
{
    int i = option_index(a->cmd, name);
    return i < 0 || k >= a->n[i] ? NULL : a->val[i][k];
}

const char *cli_str(const cli_args *a, const char *name)
{
    int n = cli_count(a, name);
    return n ? cli_at(a, name, n - 1) : NULL;
}

bool cli_flag(const cli_args *a, const char *name) { return cli_count(a, name) > 0; }

long long cli_int(const cli_args *a, const char *name, long long def)
{
    const char *v = cli_str(a, name);
    return v ? strtoll(v, NULL, 10) : def;
}

double cli_number(const cli_args *a, const char *name, double def)
{
    const char *v = cli_str(a, name);
    return v ? strtod(v, NULL) : def;
}

/* ---- help ------------------------------------------------------------------------ */

static void option_label(const cli_option *o, char *buf, size_t cap)
{
    char letter = short_name(o);
    int n = letter ? snprintf(buf, cap, "-%c, ", letter) : 0;
    buf += n, cap -= (size_t)n;
    if (o->kind == CLI_FLAG) snprintf(buf, cap, "--%s", o->name);
    else if (o->kind == CLI_CHOICE) snprintf(buf, cap, "--%s %s", o->name, o->choices);
    else snprintf(buf, cap, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
}

static void option_notes(const cli_option *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    if (o->flags & CLI_REQUIRED) n += (size_t)snprintf(buf + n, cap - n, " (required)");
    if (o->flags & CLI_REPEAT) n += (size_t)snprintf(buf + n, cap - n, " (repeatable)");
    if (o->def) snprintf(buf + n, cap - n, " (default: %s)", o->def);
}

/* Words of `text` on lines of at most 80 columns, each after `indent` spaces. */
static void wrap(FILE *out, const char *text, int indent)
{
    int col = 0;
    for (const char *w = text; *w;) {
        while (*w == ' ') w++;
        int len = (int)strcspn(w, " ");
        if (!len) break;
        if (col && col + 1 + len > 80) fputc('\n', out), col = 0;
        col += col ? fprintf(out, " %.*s", len, w) : fprintf(out, "%*s%.*s", indent, "", len, w);
        w += len;
    }
    fputc('\n', out);
}

/* " --input FILE": the required options, as the synopsis of --help and man shows them. */
static void required_options(const cli_command *cmd, char *buf, size_t cap)
{
    size_t w = 0;
    buf[0] = 0;
    for (const cli_option *o = cmd->options; o && o->name && w < cap; o++) {
        if (!(o->flags & CLI_REQUIRED)) continue;
        char label[160];
        option_label(o, label, sizeof label);
        w += (size_t)snprintf(buf + w, cap - w, " %s", label);
    }
}

static void print_synopsis(const cli_command *cmd, FILE *out)
{
    char required[512];
    required_options(cmd, required, sizeof required);
    fprintf(out, "usage: ckeras %s%s [options]%s%s\n", cmd->name, required,
            cmd->synopsis && *cmd->synopsis ? " " : "", cmd->synopsis ? cmd->synopsis : "");
}

void cli_print_help(const cli_command *cmd, FILE *out)
{
    print_synopsis(cmd, out);
    fprintf(out, "\n%s\n\n", cmd->summary);
    wrap(out, cmd->description, 0);
    fputs("\noptions (before or after the arguments; -- ends them; a file given as - is stdin,\n"
          "or stdout for what is written):\n", out);
    for (const cli_option *o = cmd->options; o && o->name; o++) {
        char label[160], notes[160], text[1200];
        option_label(o, label, sizeof label);
        option_notes(o, notes, sizeof notes);
        snprintf(text, sizeof text, "%s%s", o->help, notes);
        fprintf(out, "  %s\n", label);
        wrap(out, text, 6);
    }
    fprintf(out, "  -h, --help\n      show this help\n\nexamples:\n");
    for (const char *e = cmd->examples; e && *e;) {
        const char *nl = strchr(e, '\n');
        int len = nl ? (int)(nl - e) : (int)strlen(e);
        fprintf(out, "  %.*s\n", len, e);
        e += len + (nl != NULL);
    }
    fprintf(out, "\nexit status: " EXIT_STATUS_TEXT "\n");
}

void cli_print_overview(FILE *out)
{
    fputs("usage: ckeras COMMAND [options] [ARGS]\n"
          "       ckeras --version (-V) | --help | COMMAND --help\n\n"
          "Keras 3 models from the shell: summaries, weights, conversions, predict, fit, evaluate.\n\n"
          "commands:\n",
          out);
    for (const cli_command *c = cli_commands; c->name; c++) fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fputs("\n'ckeras COMMAND --help' lists a command's options with defaults and examples;\n"
          "'man ckeras-COMMAND' has the same text.\n\nexit status: " EXIT_STATUS_TEXT "\n",
          out);
}

/* ---- man pages ------------------------------------------------------------------- */

/* roff text: backslashes doubled, '-' as \- (so it copies as a hyphen-minus),
 * and a leading '.' or '\'' made literal. */
static void roff(const char *s, FILE *out)
{
    if (*s == '.' || *s == '\'') fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\e", out);
        else if (*s == '-') fputs("\\-", out);
        else fputc(*s, out);
        if (*s == '\n' && (s[1] == '.' || s[1] == '\'')) fputs("\\&", out);
    }
}

static void man_header(const char *name, const char *summary, FILE *out)
{
    char upper[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof upper; i++) upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    upper[i] = '\0';
    fprintf(out, ".TH %s 1 \"\" \"ckeras %s\" \"ckeras manual\"\n.SH NAME\n", upper, CKERAS_VERSION);
    roff(name, out);
    fputs(" \\- ", out);
    roff(summary, out);
    fputs("\n", out);
}

static void man_exit_status(FILE *out)
{
    fputs(".SH EXIT STATUS\n0 success, 1 error (one line on stderr naming the file, layer and field), "
          "2 usage error (one line naming the problem).\n",
          out);
}

void cli_print_man(const cli_command *cmd, FILE *out)
{
    if (!cmd) {
        man_header("ckeras", "Keras 3 models from the shell", out);
        fputs(".SH SYNOPSIS\n\\fBckeras\\fR \\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIARGS\\fR]\n.br\n"
              "\\fBckeras \\-\\-version\\fR | \\fB\\-\\-help\\fR\n.SH COMMANDS\n",
              out);
        for (const cli_command *c = cli_commands; c->name; c++) {
            fprintf(out, ".TP\n\\fBckeras\\-%s\\fR(1)\n", c->name);
            roff(c->summary, out);
            fputs("\n", out);
        }
        man_exit_status(out);
        return;
    }
    char name[80];
    snprintf(name, sizeof name, "ckeras-%s", cmd->name);
    man_header(name, cmd->summary, out);
    char required[512];
    required_options(cmd, required, sizeof required);
    fprintf(out, ".SH SYNOPSIS\n\\fBckeras %s\\fR", cmd->name);
    roff(required, out);
    fputs(" [\\fIoptions\\fR] ", out);
    roff(cmd->synopsis ? cmd->synopsis : "", out);
    fputs("\n.SH DESCRIPTION\n", out);
    roff(cmd->description, out);
    fputs("\n.SH OPTIONS\nOptions may come before or after the arguments; \\fB\\-\\-\\fR ends them. A file given as "
          "\\fB\\-\\fR is stdin, or stdout for what is written.\n", out);
    for (const cli_option *o = cmd->options; o && o->name; o++) {
        char label[160], notes[160];
        option_label(o, label, sizeof label);
        option_notes(o, notes, sizeof notes);
        fputs(".TP\n\\fB", out);
        roff(label, out);
        fputs("\\fR\n", out);
        roff(o->help, out);
        roff(notes, out);
        fputs("\n", out);
    }
    fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow this help\n.SH EXAMPLES\n.nf\n", out);
    roff(cmd->examples ? cmd->examples : "", out);
    fputs("\n.fi\n", out);
    man_exit_status(out);
    fputs(".SH SEE ALSO\n\\fBckeras\\fR(1)\n", out);
}

/* ---- completion ------------------------------------------------------------------ */

static void choices_words(const char *choices, FILE *out)
{
    for (; *choices; choices++) fputc(*choices == '|' ? ' ' : *choices, out);
}

/* The words a command's positional argument takes, when they are not files:
 * command names for "[COMMAND]" (help, man), the choices of "bash|zsh";
 * empty for file arguments. */
static void positional_words(const cli_command *cmd, char *buf, size_t cap)
{
    const char *syn = cmd->synopsis ? cmd->synopsis : "";
    size_t w = 0;
    buf[0] = 0;
    if (strstr(syn, "COMMAND")) {
        for (const cli_command *c = cli_commands; c->name && w < cap; c++)
            w += (size_t)snprintf(buf + w, cap - w, "%s%s", w ? " " : "", c->name);
    } else if (strchr(syn, '|')) {
        snprintf(buf, cap, "%s", syn);
        for (char *p = buf; *p; p++)
            if (*p == '|') *p = ' ';
    }
}

static void bash_completion(FILE *out)
{
    fputs("# bash completion for ckeras (generated by 'ckeras completion bash')\n"
          "_ckeras() {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts= words=\n"
          "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "    COMPREPLY=($(compgen -W \"--help --version",
          out);
    for (const cli_command *c = cli_commands; c->name; c++) fprintf(out, " %s", c->name);
    fputs("\" -- \"$cur\"))\n    return\n  fi\n  case \"${COMP_WORDS[1]}\" in\n", out);
    for (const cli_command *c = cli_commands; c->name; c++) {
        fprintf(out, "  %s)\n    opts=\"--help", c->name);
        for (const cli_option *o = c->options; o && o->name; o++) fprintf(out, " --%s", o->name);
        fputs("\"\n", out);
        char words[512];
        positional_words(c, words, sizeof words);
        fprintf(out, "    words=\"%s\"\n    case \"$prev\" in\n", words);
        for (const cli_option *o = c->options; o && o->name; o++) {
            if (o->kind == CLI_CHOICE) {
                fprintf(out, "    --%s) COMPREPLY=($(compgen -W \"", o->name);
                choices_words(o->choices, out);
                fputs("\" -- \"$cur\")); return ;;\n", out);
            } else if (o->kind == CLI_INT || o->kind == CLI_NUMBER || o->kind == CLI_TEXT) {
                fprintf(out, "    --%s) return ;;\n", o->name);
            }
        }
        fputs("    esac ;;\n", out);
    }
    fputs("  esac\n"
          "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "  elif [ -n \"$words\" ]; then COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "  else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
          "}\n"
          "complete -o filenames -F _ckeras ckeras\n",
          out);
}

/* Text for a zsh _arguments description: no brackets, colons or quotes. */
static void zsh_text(const char *s, FILE *out)
{
    for (; *s && *s != '\n'; s++) {
        if (*s == '[' || *s == '(') fputc('{', out);
        else if (*s == ']' || *s == ')') fputc('}', out);
        else if (*s == ':' || *s == '\'' || *s == '\\' || *s == '`' || *s == '$') fputc(' ', out);
        else fputc(*s, out);
    }
}

static void zsh_completion(FILE *out)
{
    fputs("#compdef ckeras\n# zsh completion for ckeras (generated by 'ckeras completion zsh')\n"
          "_ckeras() {\n  local -a commands\n  commands=(\n",
          out);
    for (const cli_command *c = cli_commands; c->name; c++) {
        fprintf(out, "    '%s:", c->name);
        zsh_text(c->summary, out);
        fputs("'\n", out);
    }
    fputs("  )\n  if (( CURRENT == 2 )); then\n    _describe command commands\n    return\n  fi\n"
          "  case $words[2] in\n",
          out);
    for (const cli_command *c = cli_commands; c->name; c++) {
        fprintf(out, "  %s)\n    _arguments -s \\\n", c->name);
        for (const cli_option *o = c->options; o && o->name; o++) {
            fprintf(out, "      '%s--%s[", o->flags & CLI_REPEAT ? "*" : "", o->name);
            zsh_text(o->help, out);
            fputs("]", out);
            if (o->kind == CLI_CHOICE) {
                fprintf(out, ":%s:(", o->name);
                choices_words(o->choices, out);
                fputs(")", out);
            } else if (o->kind == CLI_FILE) {
                fputs(":file:_files", out);
            } else if (o->kind != CLI_FLAG) {
                fprintf(out, ":%s: ", o->metavar ? o->metavar : "value");
            }
            fputs("' \\\n", out);
        }
        char words[512];
        positional_words(c, words, sizeof words);
        if (*words) fprintf(out, "      '(- *)--help[show help]' \\\n      '*:argument:(%s)' ;;\n", words);
        else fputs("      '(- *)--help[show help]' \\\n      '*:file:_files' ;;\n", out);
    }
    fputs("  esac\n}\n_ckeras \"$@\"\n", out);
}

int cli_print_completion(const char *shell, FILE *out)
{
    if (!strcmp(shell, "bash")) bash_completion(out);
    else if (!strcmp(shell, "zsh")) zsh_completion(out);
    else return 1;
    return 0;
}

/* Opening model files: the format is detected from the first bytes, never from
 * the file name, then the matching reader builds the model. */
#include "io/io.h"

#include <string.h>

static const unsigned char hdf5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static ck_status sniff(const char *path, const char **format)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ck_fail(CK_ERR_IO, "%s: cannot open", path);
    unsigned char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    size_t i = 0;
    while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) i++;
    if (n >= 8 && !memcmp(head, hdf5_magic, 8)) *format = "hdf5";
    else if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) *format = "keras-zip";
    else if (i < n && head[i] == '{') *format = "json";
    else return ck_fail(CK_ERR_FORMAT, "%s: not a Keras model file (neither JSON, a .keras zip nor HDF5)", path);
    return CK_OK;
}

const char *ck_file_format(const char *path)
{
    const char *format = NULL;
    return sniff(path, &format) ? NULL : format;
}

ck_model *ck_model_load(const char *path)
{
    const char *format;
    if (!path) {
        ck_fail(CK_ERR_ARG, "ck_model_load: path is NULL");
        return NULL;
    }
    if (sniff(path, &format)) return NULL;
    if (!strcmp(format, "json")) return ck_model_load_json_file(path);
    ck_fail(CK_ERR_UNSUPPORTED, "%s: %s model files are not supported yet", path, format);
    return NULL;
}

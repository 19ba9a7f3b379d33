/* BackupAndRestore(backup_dir) (keras/src/callbacks/backup_and_restore.py):
 * after every epoch the training state goes to backup_dir; a fit that finds
 * one there (the run before it was killed) starts from it at the next epoch,
 * and a fit that completes deletes it. The state is what makes the resumed run
 * end with the weights of an uninterrupted one: the weights, the optimizer's
 * iterations, rate and slots, the epoch (each epoch's shuffle comes from the
 * seed and the epoch) and the engine's random stream, so Dropout and the noise
 * layers draw on as they would have. It is ckeras's own file, written
 * atomically. */
#include "train/train.h"
#include "graph/graph.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_MAGIC "ckeras-backup-2\n"
#define BACKUP_FILE "training_state.ckeras"

typedef struct backup_header {
    char magic[16];
    int64_t next_epoch, n_weights, n_slot_floats, iterations;
    double learning_rate, u_product;
    int32_t schedule_kind, pad;
    uint64_t draws[4]; /* ck_rng state after the epoch */
} backup_header;

static void backup_path(const ck_callback *cb, char *out, size_t cap)
{
    snprintf(out, cap, "%s/" BACKUP_FILE, cb->path);
}

static int64_t slot_floats(const ck_optimizer *o) { return o->slots ? (int64_t)o->n_slots * o->n_params : 0; }

ck_status ck_backup_save(ck_fit_ctx *f, ck_callback *cb, int epoch)
{
    if (mkdir(cb->path, 0777) != 0 && errno != EEXIST)
        return ck_fail(CK_ERR_IO, "BackupAndRestore: cannot create backup_dir %s: %s", cb->path, strerror(errno));
    const ck_optimizer *o = &f->c->opt;
    backup_header h = {.next_epoch = epoch + 1, .n_weights = f->model->weight_block_size,
                       .n_slot_floats = slot_floats(o), .iterations = o->iterations,
                       .learning_rate = o->learning_rate, .u_product = o->u_product,
                       .schedule_kind = (int32_t)o->schedule.kind};
    memcpy(h.draws, f->draws->s, sizeof h.draws);
    memcpy(h.magic, BACKUP_MAGIC, sizeof h.magic);
    size_t wbytes = (size_t)h.n_weights * sizeof(float), sbytes = (size_t)h.n_slot_floats * sizeof(float);
    char *data = ck_malloc(sizeof h + wbytes + sbytes);
    if (!data)
        return ck_fail(CK_ERR_NOMEM, "BackupAndRestore: out of memory");
    memcpy(data, &h, sizeof h);
    memcpy(data + sizeof h, f->model->weight_block, wbytes);
    if (sbytes)
        memcpy(data + sizeof h + wbytes, o->slots, sbytes);
    char path[sizeof cb->path + 32];
    backup_path(cb, path, sizeof path);
    ck_status st = ck_write_file_atomic(path, data, sizeof h + wbytes + sbytes);
    ck_free(data);
    return st == CK_OK ? CK_OK : ck_fail_prefix(st, "BackupAndRestore: ");
}

ck_status ck_backup_restore(ck_fit_ctx *f, ck_callback *cb)
{
    char path[sizeof cb->path + 32], *data = NULL;
    backup_path(cb, path, sizeof path);
    size_t len = 0;
    if (access(path, F_OK) != 0)
        return CK_OK; /* nothing to resume */
    ck_status st = ck_read_file(path, &data, &len);
    if (st != CK_OK)
        return ck_fail_prefix(st, "BackupAndRestore: ");
    ck_optimizer *o = &f->c->opt;
    backup_header h;
    if (len >= sizeof h)
        memcpy(&h, data, sizeof h);
    if (len < sizeof h || memcmp(h.magic, BACKUP_MAGIC, sizeof h.magic) != 0)
        st = ck_fail(CK_ERR_FORMAT, "BackupAndRestore: %s is not a ckeras training state", path);
    else if (h.n_weights != f->model->weight_block_size || h.n_slot_floats != slot_floats(o) ||
             len != sizeof h + (size_t)(h.n_weights + h.n_slot_floats) * sizeof(float))
        st = ck_fail(CK_ERR_FORMAT, "BackupAndRestore: %s holds %lld weights and %lld optimizer values, model "
                     "'%s' has %lld and %lld: another model's backup", path, (long long)h.n_weights,
                     (long long)h.n_slot_floats, f->model->base.name, (long long)f->model->weight_block_size,
                     (long long)slot_floats(o));
    if (st == CK_OK) {
        memcpy(f->model->weight_block, data + sizeof h, (size_t)h.n_weights * sizeof(float));
        if (h.n_slot_floats)
            memcpy(o->slots, data + sizeof h + (size_t)h.n_weights * sizeof(float),
                   (size_t)h.n_slot_floats * sizeof(float));
        o->iterations = h.iterations, o->learning_rate = h.learning_rate, o->u_product = h.u_product;
        if (h.schedule_kind == CK_SCHED_NONE)
            o->schedule.kind = CK_SCHED_NONE; /* a callback had taken over the rate */
        memcpy(f->draws->s, h.draws, sizeof h.draws);
        ck_model_weights_changed(f->model);
        if (h.next_epoch > f->initial_epoch)
            f->initial_epoch = (int)h.next_epoch;
    }
    ck_free(data);
    return st;
}

/* The state file and what a killed write left of it (its temporary names);
 * then the directory, when nothing else is in it. */
void ck_backup_delete(const ck_callback *cb)
{
    DIR *d = opendir(cb->path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, BACKUP_FILE, strlen(BACKUP_FILE)) != 0)
            continue;
        char path[sizeof cb->path + 300];
        snprintf(path, sizeof path, "%s/%s", cb->path, e->d_name);
        remove(path);
    }
    if (d)
        closedir(d);
    rmdir(cb->path);
}

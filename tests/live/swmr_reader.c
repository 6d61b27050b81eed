/*
 * A SWMR reader for the live tests, compiled at test time against Debian's libhdf5 (1.10).
 *
 * It does what tests/live/py_reader.py does with h5py, with the plain C API: open the file with
 * H5F_ACC_RDONLY | H5F_ACC_SWMR_READ (retrying until the writer has published it), then either
 *
 *   follow: H5Drefresh every dataset each poll, read every new frame and check it bit for bit
 *           (and check the last RECHECK frames seen before again), until every dataset holds
 *           its target number of frames; or
 *   sample: read the current size once, check it equals the target, and check every
 *           stride-th frame and the last one.
 *
 * Frame i, element p of a dataset must hold expected(i, p, bits, salt), never 0 (the same formula
 * as expected_values() in py_reader.py). Reports go to stdout, one JSON object per line:
 *   {"event": "opened", "hdf5": "1.10.8", "sizes": {...}}
 *   {"event": "size", "dataset": ..., "n": ..., "checked": ...}        (follow: each growth)
 *   {"event": "bad", "dataset": ..., "index": ..., "position": ..., "got": ..., "expected": ...}
 *   {"event": "shrank" | "error" | "timeout", ...}
 *   {"event": "done", "sizes": {...}, "checked": {...}, "polls": ...}
 * Exit status: 0 done, 1 error or bad frame, 2 bad usage, 3 timeout.
 *
 * usage: swmr_reader PATH MODE TIMEOUT_S OPEN_TIMEOUT_S POLL_MS STRIDE {NAME BITS SALT TARGET}...
 */
#define _POSIX_C_SOURCE 200809L

#include <hdf5.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DATASETS 32
#define BLOCK_ELEMENTS (1u << 20)
#define RECHECK 4 /* frames before the old size checked again when the size grows */

typedef struct {
    const char *name;
    unsigned bits;
    uint64_t salt;
    uint64_t target;
    hid_t id;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    uint64_t frame_size;
    uint64_t seen;
    uint64_t checked;
} dataset_t;

static uint64_t *buffer;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t expected(uint64_t i, uint64_t p, unsigned bits, uint64_t salt) {
    const uint64_t m = 0xFFFFFFFFull;
    uint64_t h = (i * 2654435761ull + p * 40503ull + salt) & m;
    h ^= h >> 15;
    h = (h * 0x2C1B3C6Dull) & m;
    h ^= h >> 12;
    return 1 + h % ((1ull << bits) - 1);
}

static void report_error(const char *stage, const char *dataset, const char *message) {
    printf("{\"event\": \"error\", \"stage\": \"%s\", \"dataset\": \"%s\", \"message\": \"%s\"}\n",
           stage, dataset ? dataset : "", message);
    fflush(stdout);
    H5Eprint2(H5E_DEFAULT, stderr);
}

static void report_sizes(const char *key, dataset_t *ds, int n, int checked) {
    printf("\"%s\": {", key);
    for (int k = 0; k < n; k++)
        printf("%s\"%s\": %" PRIu64, k ? ", " : "", ds[k].name, checked ? ds[k].checked : ds[k].seen);
    printf("}");
}

/* The current extent of d into d->dims; refresh first if asked. 0 on success. */
static int get_extent(dataset_t *d, int refresh) {
    if (refresh && H5Drefresh(d->id) < 0) {
        report_error("refresh", d->name, "H5Drefresh failed");
        return -1;
    }
    hid_t space = H5Dget_space(d->id);
    if (space < 0) {
        report_error("extent", d->name, "H5Dget_space failed");
        return -1;
    }
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    if (rank < 1 || rank != d->rank) {
        report_error("extent", d->name, "unexpected rank");
        return -1;
    }
    for (int k = 1; k < rank; k++) {
        if (dims[k] != d->dims[k]) {
            report_error("extent", d->name, "frame dims changed");
            return -1;
        }
    }
    d->dims[0] = dims[0];
    return 0;
}

/* Read frames [first, first + count) and check every element. 0 if all are right. */
static int read_check(dataset_t *d, uint64_t first, uint64_t count, int count_checked) {
    hsize_t start[H5S_MAX_RANK] = {0}, extent[H5S_MAX_RANK];
    start[0] = first;
    extent[0] = count;
    for (int k = 1; k < d->rank; k++) extent[k] = d->dims[k];
    hsize_t n_elements = count * d->frame_size;
    hid_t file_space = H5Dget_space(d->id);
    hid_t memory_space = H5Screate_simple(1, &n_elements, NULL);
    herr_t status = -1;
    if (file_space >= 0 && memory_space >= 0 &&
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, extent, NULL) >= 0)
        status = H5Dread(d->id, H5T_NATIVE_UINT64, memory_space, file_space, H5P_DEFAULT, buffer);
    if (memory_space >= 0) H5Sclose(memory_space);
    if (file_space >= 0) H5Sclose(file_space);
    if (status < 0) {
        report_error("read", d->name, "H5Dread failed");
        return -1;
    }
    for (uint64_t f = 0; f < count; f++) {
        for (uint64_t p = 0; p < d->frame_size; p++) {
            uint64_t got = buffer[f * d->frame_size + p];
            uint64_t want = expected(first + f, p, d->bits, d->salt);
            if (got != want) {
                int zero = 1;
                for (uint64_t q = 0; q < d->frame_size; q++)
                    if (buffer[f * d->frame_size + q] != 0) zero = 0;
                printf("{\"event\": \"bad\", \"dataset\": \"%s\", \"index\": %" PRIu64
                       ", \"position\": %" PRIu64 ", \"got\": %" PRIu64 ", \"expected\": %" PRIu64
                       ", \"zero_frame\": %s, \"n\": %" PRIu64 "}\n",
                       d->name, first + f, p, got, want, zero ? "true" : "false",
                       (uint64_t)d->dims[0]);
                fflush(stdout);
                return -1;
            }
        }
    }
    if (count_checked) d->checked += count;
    return 0;
}

static int read_new_frames(dataset_t *d) {
    uint64_t n = d->dims[0];
    uint64_t block = BLOCK_ELEMENTS / d->frame_size;
    if (block == 0) block = 1;
    /* Frames already seen must not change either (a partial band re-filtered elsewhere, say). */
    uint64_t back = d->seen < RECHECK ? d->seen : RECHECK;
    if (back > block) back = block;
    if (back && read_check(d, d->seen - back, back, 0) < 0) return -1;
    for (uint64_t first = d->seen; first < n; first += block) {
        uint64_t count = n - first < block ? n - first : block;
        if (read_check(d, first, count, 1) < 0) return -1;
    }
    d->seen = n;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 11 || (argc - 7) % 4 != 0 || (argc - 7) / 4 > MAX_DATASETS) {
        fprintf(stderr,
                "usage: %s PATH MODE TIMEOUT_S OPEN_TIMEOUT_S POLL_MS STRIDE "
                "{NAME BITS SALT TARGET}...\n",
                argv[0]);
        return 2;
    }
    const char *path = argv[1];
    const char *mode = argv[2];
    int follow = strcmp(mode, "follow") == 0;
    if (!follow && strcmp(mode, "sample") != 0) {
        fprintf(stderr, "mode must be follow or sample, not %s\n", mode);
        return 2;
    }
    double start = now();
    double deadline = start + atof(argv[3]);
    double open_deadline = start + atof(argv[4]);
    long poll_ms = atol(argv[5]);
    uint64_t stride = strtoull(argv[6], NULL, 10);
    int n_datasets = (argc - 7) / 4;
    dataset_t ds[MAX_DATASETS];
    memset(ds, 0, sizeof ds);
    for (int k = 0; k < n_datasets; k++) {
        ds[k].name = argv[7 + 4 * k];
        ds[k].bits = (unsigned)atoi(argv[8 + 4 * k]);
        ds[k].salt = strtoull(argv[9 + 4 * k], NULL, 10);
        ds[k].target = strtoull(argv[10 + 4 * k], NULL, 10);
    }
    buffer = malloc(BLOCK_ELEMENTS * sizeof *buffer);
    if (buffer == NULL) return 2;

    /* The writer publishes the superblock last: until then the open fails; retry quietly. */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = -1;
    while ((file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT)) < 0) {
        if (now() > open_deadline) {
            report_error("open", NULL, "H5Fopen with H5F_ACC_SWMR_READ failed until the timeout");
            return 1;
        }
        sleep_ms(poll_ms);
    }
    for (int k = 0; k < n_datasets; k++) {
        dataset_t *d = &ds[k];
        d->id = H5Dopen2(file, d->name, H5P_DEFAULT);
        if (d->id < 0) {
            report_error("open", d->name, "H5Dopen2 failed");
            return 1;
        }
        hid_t space = H5Dget_space(d->id);
        d->rank = H5Sget_simple_extent_dims(space, d->dims, NULL);
        H5Sclose(space);
        if (d->rank < 1) {
            report_error("open", d->name, "not a simple dataspace of rank >= 1");
            return 1;
        }
        d->frame_size = 1;
        for (int r = 1; r < d->rank; r++) d->frame_size *= d->dims[r];
        if (d->frame_size == 0 || d->frame_size > BLOCK_ELEMENTS) {
            report_error("open", d->name, "frame size out of range");
            return 1;
        }
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    unsigned major, minor, release;
    H5get_libversion(&major, &minor, &release);
    printf("{\"event\": \"opened\", \"hdf5\": \"%u.%u.%u\", \"sizes\": {", major, minor, release);
    for (int k = 0; k < n_datasets; k++)
        printf("%s\"%s\": %" PRIu64, k ? ", " : "", ds[k].name, (uint64_t)ds[k].dims[0]);
    printf("}}\n");
    fflush(stdout);

    long polls = 0;
    if (follow) {
        for (;;) {
            int complete = 1;
            polls++;
            for (int k = 0; k < n_datasets; k++) {
                dataset_t *d = &ds[k];
                if (get_extent(d, 1) < 0) return 1;
                uint64_t n = d->dims[0];
                if (n < d->seen) {
                    printf("{\"event\": \"shrank\", \"dataset\": \"%s\", \"n\": %" PRIu64
                           ", \"seen\": %" PRIu64 "}\n",
                           d->name, n, d->seen);
                    fflush(stdout);
                    return 1;
                }
                if (n > d->seen) {
                    if (read_new_frames(d) < 0) return 1;
                    printf("{\"event\": \"size\", \"dataset\": \"%s\", \"n\": %" PRIu64
                           ", \"checked\": %" PRIu64 ", \"t\": %.4f}\n",
                           d->name, n, d->checked, now() - start);
                    fflush(stdout);
                }
                if (d->seen < d->target) complete = 0;
            }
            if (complete) break;
            if (now() > deadline) {
                printf("{\"event\": \"timeout\", ");
                report_sizes("sizes", ds, n_datasets, 0);
                printf("}\n");
                fflush(stdout);
                return 3;
            }
            sleep_ms(poll_ms);
        }
    } else {
        polls = 1;
        for (int k = 0; k < n_datasets; k++) {
            dataset_t *d = &ds[k];
            if (get_extent(d, 1) < 0) return 1;
            uint64_t n = d->dims[0];
            if (n != d->target) {
                printf("{\"event\": \"error\", \"stage\": \"sample\", \"dataset\": \"%s\", "
                       "\"message\": \"%" PRIu64 " frames, expected %" PRIu64 "\"}\n",
                       d->name, n, d->target);
                fflush(stdout);
                return 1;
            }
            for (uint64_t i = 0; i < n; i += stride ? stride : 1)
                if (read_check(d, i, 1, 1) < 0) return 1;
            if (n > 0 && read_check(d, n - 1, 1, 1) < 0) return 1;
            d->seen = n;
        }
    }
    printf("{\"event\": \"done\", ");
    report_sizes("sizes", ds, n_datasets, 0);
    printf(", ");
    report_sizes("checked", ds, n_datasets, 1);
    printf(", \"polls\": %ld, \"t\": %.4f}\n", polls, now() - start);
    fflush(stdout);
    for (int k = 0; k < n_datasets; k++) H5Dclose(ds[k].id);
    H5Fclose(file);
    free(buffer);
    return 0;
}

#ifndef IC_COMMON_H
#define IC_COMMON_H

#include <stddef.h>
#include <stdint.h>

// Result codes shared by every shim; Swift maps them to ImagingError.Code.
enum {
    IC_OK = 0,
    IC_TRUNCATED = 1,
    IC_CORRUPT = 2,
    IC_UNSUPPORTED = 3,
    IC_TOO_LARGE = 4,
    IC_NO_MEMORY = 5,
    IC_ENCODE_FAILED = 6,
};

// Why a call failed: a code and the library's own message.
typedef struct {
    int code;
    char message[256];
} ic_status;

// A growable output buffer owned by C (malloc); release it with ic_buffer_free.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed; // set when an append could not allocate
} ic_buffer;

void ic_buffer_free(ic_buffer *buffer);

// Internal helpers (not for Swift).
void ic_status_set(ic_status *status, int code, const char *message);
int ic_buffer_append(ic_buffer *buffer, const void *bytes, size_t count);

#endif

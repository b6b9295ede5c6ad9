#include "ic_common.h"

#include <stdlib.h>
#include <string.h>

void ic_status_set(ic_status *status, int code, const char *message) {
    if (!status) return;
    status->code = code;
    if (!message) message = "";
    strncpy(status->message, message, sizeof(status->message) - 1);
    status->message[sizeof(status->message) - 1] = '\0';
}

int ic_buffer_append(ic_buffer *buffer, const void *bytes, size_t count) {
    if (buffer->failed) return 0;
    if (count > SIZE_MAX - buffer->size) { buffer->failed = 1; return 0; }
    size_t needed = buffer->size + count;
    if (needed > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 64 * 1024;
        while (capacity < needed) {
            if (capacity > SIZE_MAX / 2) { capacity = needed; break; }
            capacity *= 2;
        }
        uint8_t *grown = realloc(buffer->data, capacity);
        if (!grown) { buffer->failed = 1; return 0; }
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, count);
    buffer->size = needed;
    return 1;
}

void ic_buffer_free(ic_buffer *buffer) {
    if (!buffer) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = buffer->capacity = 0;
}

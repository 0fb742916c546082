/* SPDX-License-Identifier: MIT
 * fuzz_image.c - uploaded bytes through bt_image_sniff (src/core/image.c). Invariants: OK
 * means a known format, its MIME type and extension, 1..65535 pixels each way and no reason;
 * EINVAL means no format and a reason. A truncated upload must never pass: when the whole
 * input is accepted, the input without its last byte is not. Corpus: corpus/image.
 */
#include "fuzz.h"

#include <bento/err.h>
#include <bento/image.h>

static int sniff(const uint8_t *p, size_t n)
{
    struct bt_image_info info;
    int rc = bt_image_sniff(p, n, &info);

    if (rc == BT_OK) {
        FUZZ_CHECK(info.format >= BT_IMG_JPEG && info.format <= BT_IMG_WEBP);
        FUZZ_CHECK(info.mime != NULL && info.ext != NULL && info.reason == NULL);
        FUZZ_CHECK(info.width >= 1 && info.width <= 65535);
        FUZZ_CHECK(info.height >= 1 && info.height <= 65535);
    } else {
        FUZZ_CHECK(rc == BT_EINVAL);
        FUZZ_CHECK(info.format == BT_IMG_NONE && info.reason != NULL);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sniff(data, size) == BT_OK)
        FUZZ_CHECK(size > 0 && sniff(data, size - 1) != BT_OK);
    return 0;
}

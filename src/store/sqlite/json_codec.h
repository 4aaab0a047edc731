#pragma once
// How resource_version.content holds a resource's JSON on SQLite (issue 7: disk per submitted
// byte). New rows are zstd frames stored as BLOBs; rows written before this change are plain
// JSON text and stay as they are (no migration rewrites them). The two never collide: a zstd
// frame starts with the magic 28 B5 2F FD, JSON text with '{' (or whitespace).
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace clinshub::store::sqlite {

// zstd level for stored JSON. Measured with `zstd -b1 -e3` on 500 stored Bundles from a
// `clinshub bench --spawn --persons 1000` database (12 KB average): level 1 x5.50 at ~395 MB/s,
// level 3 x5.61 at ~355 MB/s. The 2 % of size is not worth 10 % more CPU on the single writer
// thread, whose time bounds the commit rate.
inline constexpr int kJsonZstdLevel = 1;

// One zstd frame of `json` (content size recorded in the header, so decoding allocates once).
std::string CompressJson(std::string_view json);

// True if `data` starts with the zstd frame magic, i.e. was written by CompressJson.
bool IsCompressedJson(const void* data, size_t size);

// The JSON of a stored value: decompressed if it starts with a zstd frame (several frames
// back to back decode as their concatenation), else the bytes as they are
// (an old plain-text row). A damaged frame is kInternal (the store wrote it, so it is not the
// caller's fault), never a crash or a partial document.
Result<std::string> DecodeStoredJson(const void* data, size_t size);

}  // namespace clinshub::store::sqlite

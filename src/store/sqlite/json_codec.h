#pragma once
// How resource_version.content holds a resource's JSON on SQLite (issue 7: disk per submitted
// byte, and the CPU that compressing and decompressing it costs). New rows are LZ4 frames
// stored as BLOBs. Rows of earlier releases stay as they were written (no migration rewrites
// them): zstd frames (releases of 2026-11) and plain JSON text (before that). The three never
// collide: an LZ4 frame starts with 04 22 4D 18, a zstd frame with 28 B5 2F FD, JSON text with
// '{' (or whitespace).
//
// Why LZ4: on the generated Bundles (12 KB of compact JSON) LZ4 compresses 4.4x at ~1.3 GB/s
// and decompresses at ~5.8 GB/s; zstd level 1 compressed 5.6x at ~0.4 GB/s and decompressed at
// ~1 GB/s. The store is CPU-bound, disk is far under its budget, and a person's summary read
// from the store decompresses every one of their Bundles (items are slices of them).
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace clinshub::store::sqlite {

// One LZ4 frame of `json` (content size and checksum in the frame, so decoding allocates once
// and a damaged row reads as an error, not as altered JSON).
std::string CompressJson(std::string_view json);

// True if `data` starts with a compressed frame (LZ4, or an earlier release's zstd).
bool IsCompressedJson(const void* data, size_t size);

// The JSON of a stored value: decompressed if it starts with a frame (several frames back to
// back, LZ4 or zstd, decode as their concatenation), else the bytes as they are (a plain-text
// row). A damaged frame is kInternal (the store wrote it, so it is not the caller's fault),
// never a crash or a partial document.
Result<std::string> DecodeStoredJson(const void* data, size_t size);

// Compression as the store wrote it before LZ4 (one zstd frame, level 1, checksummed): for
// tests that need rows an earlier release wrote.
std::string CompressJsonAsZstdForTests(std::string_view json);

}  // namespace clinshub::store::sqlite

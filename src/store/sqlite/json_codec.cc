#include "store/sqlite/json_codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "common/status.h"

namespace clinshub::store::sqlite {
namespace {

// ZSTD_MAGICNUMBER (0xFD2FB528) as it appears on disk, little-endian.
constexpr unsigned char kMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

// A stored Bundle is at most a few MB; a frame header claiming more than this is damage, and
// must not make us allocate it.
constexpr unsigned long long kMaxDecodedSize = 256ull << 20;

}  // namespace

namespace {

// A context per thread: creating one per call costs more than compressing a small Bundle.
// Parameters are sticky on a context, so they are set once.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx = [] {
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, kJsonZstdLevel);
    // A 4-byte checksum: a damaged row then reads as an error, not as altered JSON.
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1);
    return c;
  }();
  return cctx.get();
}

}  // namespace

std::string CompressJson(std::string_view json) {
  std::string out;
  out.resize(ZSTD_compressBound(json.size()));
  size_t n = ZSTD_compress2(ThreadCCtx(), out.data(), out.size(), json.data(), json.size());
  // Cannot fail with a ZSTD_compressBound-sized buffer; should it anyway, one-shot compress
  // without the context so the row is still a valid frame.
  if (ZSTD_isError(n)) {
    n = ZSTD_compress(out.data(), out.size(), json.data(), json.size(), kJsonZstdLevel);
  }
  out.resize(n);
  return out;
}

bool IsCompressedJson(const void* data, size_t size) {
  return size >= sizeof(kMagic) && std::memcmp(data, kMagic, sizeof(kMagic)) == 0;
}

Result<std::string> DecodeStoredJson(const void* data, size_t size) {
  if (!IsCompressedJson(data, size)) {
    return std::string(static_cast<const char*>(data == nullptr ? "" : data), size);
  }
  // Every frame's content size: a stored value may be several frames back to back (a small
  // head rendered by the writer, the caller's frame of the rest: sqlite_store.cc).
  unsigned long long decoded = 0;
  const char* const bytes = static_cast<const char*>(data);
  for (size_t at = 0; at < size;) {
    const size_t frame = ZSTD_findFrameCompressedSize(bytes + at, size - at);
    const unsigned long long content = ZSTD_getFrameContentSize(bytes + at, size - at);
    if (ZSTD_isError(frame) || content == ZSTD_CONTENTSIZE_ERROR ||
        content == ZSTD_CONTENTSIZE_UNKNOWN || content > kMaxDecodedSize - decoded) {
      return InternalError("stored resource JSON: damaged zstd frame header");
    }
    decoded += content;
    at += frame;
  }
  std::string out;
  out.resize(static_cast<size_t>(decoded));
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(),
                                                                        ZSTD_freeDCtx);
  const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), data, size);
  if (ZSTD_isError(n)) {
    return InternalError(std::string("stored resource JSON: damaged zstd frame: ") +
                         ZSTD_getErrorName(n));
  }
  if (n != out.size()) return InternalError("stored resource JSON: zstd frame size mismatch");
  return out;
}

}  // namespace clinshub::store::sqlite

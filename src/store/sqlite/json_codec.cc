#include "store/sqlite/json_codec.h"

#include <lz4frame.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "common/status.h"

namespace clinshub::store::sqlite {
namespace {

// The frame magics as they appear on disk (little-endian 0x184D2204 and 0xFD2FB528).
constexpr unsigned char kLz4Magic[4] = {0x04, 0x22, 0x4D, 0x18};
constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

// A stored Bundle is at most a few MB; a frame header claiming more than this is damage, and
// must not make us allocate it.
constexpr unsigned long long kMaxDecodedSize = 256ull << 20;

bool StartsWith(const void* data, size_t size, const unsigned char (&magic)[4]) {
  return size >= sizeof(magic) && std::memcmp(data, magic, sizeof(magic)) == 0;
}

Status Damaged(const std::string& what) {
  return InternalError("stored resource JSON: damaged " + what);
}

// Concatenated LZ4 frames, each with its content size.
Result<std::string> DecodeLz4(const char* src, size_t size) {
  thread_local std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> dctx = [] {
    LZ4F_dctx* d = nullptr;
    LZ4F_createDecompressionContext(&d, LZ4F_VERSION);
    return std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)>(
        d, LZ4F_freeDecompressionContext);
  }();
  if (dctx == nullptr) return InternalError("stored resource JSON: no LZ4 context");
  std::string out;
  size_t at = 0;
  while (at < size) {
    if (!StartsWith(src + at, size - at, kLz4Magic)) return Damaged("LZ4 frame (no magic)");
    LZ4F_frameInfo_t info{};
    size_t consumed = size - at;
    size_t r = LZ4F_getFrameInfo(dctx.get(), &info, src + at, &consumed);
    // An empty document's frame records no size (0 means "not given"): it decodes to nothing.
    if (LZ4F_isError(r) || info.contentSize > kMaxDecodedSize - out.size()) {
      LZ4F_resetDecompressionContext(dctx.get());
      return Damaged("LZ4 frame header");
    }
    at += consumed;
    const size_t base = out.size();
    out.resize(base + static_cast<size_t>(info.contentSize));
    size_t written = static_cast<size_t>(info.contentSize);
    size_t read = size - at;
    r = LZ4F_decompress(dctx.get(), out.data() + base, &written, src + at, &read, nullptr);
    at += read;
    // 0: the frame ended (its checksum verified); anything else: it was cut short, longer than
    // its header said, or damaged.
    if (LZ4F_isError(r) || r != 0 || written != info.contentSize) {
      LZ4F_resetDecompressionContext(dctx.get());
      return Damaged(LZ4F_isError(r) ? std::string("LZ4 frame: ") + LZ4F_getErrorName(r)
                                     : std::string("LZ4 frame (truncated or mis-sized)"));
    }
  }
  return out;
}

// Concatenated zstd frames (rows written by the releases of 2026-11).
Result<std::string> DecodeZstd(const char* bytes, size_t size) {
  unsigned long long decoded = 0;
  for (size_t at = 0; at < size;) {
    const size_t frame = ZSTD_findFrameCompressedSize(bytes + at, size - at);
    const unsigned long long content = ZSTD_getFrameContentSize(bytes + at, size - at);
    if (ZSTD_isError(frame) || content == ZSTD_CONTENTSIZE_ERROR ||
        content == ZSTD_CONTENTSIZE_UNKNOWN || content > kMaxDecodedSize - decoded) {
      return Damaged("zstd frame header");
    }
    decoded += content;
    at += frame;
  }
  std::string out;
  out.resize(static_cast<size_t>(decoded));
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(),
                                                                        ZSTD_freeDCtx);
  const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), bytes, size);
  if (ZSTD_isError(n)) return Damaged(std::string("zstd frame: ") + ZSTD_getErrorName(n));
  if (n != out.size()) return Damaged("zstd frame (size mismatch)");
  return out;
}

}  // namespace

std::string CompressJson(std::string_view json) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = json.size();
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;  // a Bundle is one block: no per-block overhead
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  std::string out;
  out.resize(LZ4F_compressFrameBound(json.size(), &prefs));
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), json.data(), json.size(), &prefs);
  // Cannot fail with a bound-sized buffer and valid preferences: a failure is a bug.
  if (LZ4F_isError(n)) std::abort();
  out.resize(n);
  return out;
}

bool IsCompressedJson(const void* data, size_t size) {
  return StartsWith(data, size, kLz4Magic) || StartsWith(data, size, kZstdMagic);
}

Result<std::string> DecodeStoredJson(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data == nullptr ? "" : data);
  if (StartsWith(bytes, size, kLz4Magic)) return DecodeLz4(bytes, size);
  if (StartsWith(bytes, size, kZstdMagic)) return DecodeZstd(bytes, size);
  return std::string(bytes, size);
}

std::string CompressJsonAsZstdForTests(std::string_view json) {
  std::string out;
  out.resize(ZSTD_compressBound(json.size()));
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  const size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), json.data(), json.size());
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

}  // namespace clinshub::store::sqlite

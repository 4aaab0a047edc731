#include "common/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>
#include <stdexcept>

namespace clinshub {
namespace {

// The fixed gzip header: deflate, no flags, no modification time (RFC 1952 §2.3: 0 means
// none; the body is not a file), no extra flags, OS unknown.
constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
// A final, empty block with fixed Huffman codes: BFINAL=1, BTYPE=01, end-of-block (7 zero
// bits), padded to a byte. zlib ends an empty stream with the same two bytes.
constexpr unsigned char kFinalEmptyBlock[2] = {0x03, 0x00};

void AppendLittleEndian32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// libdeflate's CRC-32 (the gzip one, size_t lengths, faster than zlib 1.2's).
uint32_t Crc32(std::string_view text) { return libdeflate_crc32(0, text.data(), text.size()); }

// Compressor states, kept for reuse and handed out most recently used first. Setting one up
// costs ~260 KB of allocation and clearing (zlib) or more (libdeflate), too much per response;
// and one per thread (32 handler threads) meant 32 states taking turns in a 2-core machine's
// caches: gzip-coding a body cost ~3× what it costs with a warm state. With a LIFO pool the
// states in use number about as many as bodies being compressed at once, and stay warm.
template <typename T>
class StatePool {
 public:
  using Make = std::unique_ptr<T> (*)(int level);
  // Runs f(state) with a state of `level`, made with `make` if none is free.
  template <typename F>
  void With(int level, Make make, F&& f) {
    std::unique_ptr<T> state;
    {
      std::lock_guard lock(mu_);
      std::vector<std::unique_ptr<T>>& free = free_[level];
      if (!free.empty()) {
        state = std::move(free.back());
        free.pop_back();
      }
    }
    if (!state) state = make(level);
    f(*state);
    std::lock_guard lock(mu_);
    std::vector<std::unique_ptr<T>>& free = free_[level];
    if (free.size() < kKeep) free.push_back(std::move(state));
  }

 private:
  static constexpr size_t kKeep = 16;
  std::mutex mu_;
  std::vector<std::unique_ptr<T>> free_[13];
};

// A raw-deflate stream, reset between uses.
class Deflater {
 public:
  explicit Deflater(int level) {
    stream_ = {};
    // -15: raw deflate (no zlib wrapper), 32 KB window; memLevel 8 is zlib's default.
    if (deflateInit2(&stream_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("zlib: deflateInit2 failed (out of memory)");
    }
  }
  ~Deflater() { deflateEnd(&stream_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends `text` deflated to `out`, ended by a sync flush: byte-aligned, not final.
  void DeflateToSyncFlush(std::string_view text, std::string& out) {
    deflateReset(&stream_);
    const size_t start = out.size();
    out.resize(start + deflateBound(&stream_, static_cast<uLong>(text.size())) + 16);
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream_.avail_in = static_cast<uInt>(text.size());
    stream_.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    stream_.avail_out = static_cast<uInt>(out.size() - start);
    // deflateBound covers a whole stream ended by Z_FINISH; the sync flush adds at most the
    // five bytes of an empty stored block (the +16 above). Loop anyway rather than trust it.
    for (;;) {
      const int rc = deflate(&stream_, Z_SYNC_FLUSH);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib: deflate stream error");
      if (stream_.avail_in == 0 && stream_.avail_out > 0) break;
      const size_t used = Written(out);
      out.resize(out.size() + 64 * 1024);
      stream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      stream_.avail_out = static_cast<uInt>(out.size() - used);
    }
    out.resize(Written(out));
  }

 private:
  // How much of `out` holds output: up to where deflate stopped writing.
  size_t Written(const std::string& out) const {
    return static_cast<size_t>(reinterpret_cast<const char*>(stream_.next_out) - out.data());
  }

  z_stream stream_;
};

StatePool<Deflater>& Deflaters() {
  static StatePool<Deflater> pool;
  return pool;
}

struct Compressor {
  libdeflate_compressor* c = nullptr;
  ~Compressor() { libdeflate_free_compressor(c); }
};

StatePool<Compressor>& Compressors() {
  static StatePool<Compressor> pool;
  return pool;
}

std::unique_ptr<Compressor> MakeCompressor(int level) {
  auto made = std::make_unique<Compressor>();
  made->c = libdeflate_alloc_compressor(level);
  if (made->c == nullptr) throw std::runtime_error("libdeflate: out of memory");
  return made;
}

// zlib's deflate takes a uInt length; bodies here are far below 4 GB (the server caps them),
// but a run must never be silently cut.
void CheckSize(std::string_view text) {
  if (text.size() >= (1ull << 32) - 1) throw std::length_error("gzip: text of 4 GB or more");
}

}  // namespace

DeflatedRun DeflateRun(std::string_view text, int level) {
  CheckSize(text);
  DeflatedRun run;
  Deflaters().With(
      std::clamp(level, 1, 9), [](int l) { return std::make_unique<Deflater>(l); },
      [&](Deflater& d) { d.DeflateToSyncFlush(text, run.deflated); });
  run.crc32 = Crc32(text);
  run.size = text.size();
  return run;
}

DeflatedRun DeflateFinalRun(std::string_view text, int level) {
  DeflatedRun run;
  size_t n = 0;
  Compressors().With(std::clamp(level, 1, 12), MakeCompressor, [&](Compressor& compressor) {
    run.deflated.resize(libdeflate_deflate_compress_bound(compressor.c, text.size()));
    n = libdeflate_deflate_compress(compressor.c, text.data(), text.size(),
                                    run.deflated.data(), run.deflated.size());
  });
  if (n == 0) throw std::runtime_error("libdeflate: output exceeded its own bound");
  run.deflated.resize(n);
  run.crc32 = Crc32(text);
  run.size = text.size();
  run.final = true;
  return run;
}

GzipBuilder::GzipBuilder(size_t expected_bytes) {
  out_.reserve(sizeof kHeader + expected_bytes + 16);
  out_.append(reinterpret_cast<const char*>(kHeader), sizeof kHeader);
}

void GzipBuilder::CheckOpen() const {
  if (ended_) throw std::logic_error("gzip: a piece appended after the final run");
}

void GzipBuilder::AppendText(std::string_view text) {
  CheckOpen();
  crc_ = static_cast<uint32_t>(
      crc32_combine(crc_, Crc32(text), static_cast<z_off_t>(text.size())));
  size_ += text.size();
  // Stored blocks (RFC 1951 §3.2.4): a header byte (BFINAL=0, BTYPE=00; the builder is always
  // at a byte boundary, so the padding bits are that byte's rest), LEN and its complement.
  do {
    const size_t n = std::min<size_t>(text.size(), 65535);
    out_.push_back('\0');
    out_.push_back(static_cast<char>(n & 0xff));
    out_.push_back(static_cast<char>(n >> 8));
    out_.push_back(static_cast<char>(~n & 0xff));
    out_.push_back(static_cast<char>((~n >> 8) & 0xff));
    out_.append(text.substr(0, n));
    text.remove_prefix(n);
  } while (!text.empty());
}

void GzipBuilder::AppendRun(const DeflatedRun& run) {
  CheckOpen();
  ended_ = run.final;
  crc_ = static_cast<uint32_t>(crc32_combine(crc_, run.crc32, static_cast<z_off_t>(run.size)));
  size_ += run.size;
  out_ += run.deflated;
}

std::string GzipBuilder::Finish() && {
  if (!ended_) {
    out_.append(reinterpret_cast<const char*>(kFinalEmptyBlock), sizeof kFinalEmptyBlock);
  }
  AppendLittleEndian32(out_, crc_);
  AppendLittleEndian32(out_, static_cast<uint32_t>(size_ & 0xffffffffu));  // ISIZE: mod 2^32
  return std::move(out_);
}

std::string Gzip(std::string_view text, int level) {
  // libdeflate for whole bodies: it compresses a buffer in one call, ~25 % faster than zlib at
  // level 1. zlib stays for runs, which need a sync flush libdeflate does not offer.
  std::string out;
  size_t n = 0;
  Compressors().With(
      std::clamp(level, 1, 12), MakeCompressor, [&](Compressor& compressor) {
        out.resize(libdeflate_gzip_compress_bound(compressor.c, text.size()));
        n = libdeflate_gzip_compress(compressor.c, text.data(), text.size(), out.data(),
                                     out.size());
      });
  if (n == 0) throw std::runtime_error("libdeflate: output exceeded its own bound");
  out.resize(n);
  return out;
}

Result<std::string> Gunzip(std::string_view gzip, size_t max_bytes) {
  z_stream s = {};
  // 16 + 15: a gzip wrapper (header and trailer checked by zlib), 32 KB window.
  if (inflateInit2(&s, 16 + 15) != Z_OK) return InternalError("zlib: inflateInit2 failed");
  struct End {
    z_stream* s;
    ~End() { inflateEnd(s); }
  } end{&s};
  if (gzip.size() >= (1ull << 32) - 1) {
    return Status::Error(ErrorCode::kPayloadTooLarge, "too-long", "gzip body of 4 GB or more");
  }
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzip.data()));
  s.avail_in = static_cast<uInt>(gzip.size());
  std::string out;
  char buffer[64 * 1024];
  bool member_ended = false;
  for (;;) {
    s.next_out = reinterpret_cast<Bytef*>(buffer);
    s.avail_out = sizeof buffer;
    const int rc = inflate(&s, Z_NO_FLUSH);
    const size_t produced = sizeof buffer - s.avail_out;
    if (out.size() + produced > max_bytes) {
      return Status::Error(ErrorCode::kPayloadTooLarge, "too-long",
                           "the gzip body inflates to more than " + std::to_string(max_bytes) +
                               " bytes");
    }
    out.append(buffer, produced);
    if (rc == Z_STREAM_END) {
      member_ended = true;
      if (s.avail_in == 0) break;
      // Another member follows (RFC 1952 §2.2): decode it into the same text.
      inflateReset(&s);
      member_ended = false;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && s.avail_in == 0) break;  // input ended inside a member
    return MalformedError(std::string("the body is not valid gzip: ") +
                          (s.msg != nullptr ? s.msg : "zlib error " + std::to_string(rc)));
  }
  if (!member_ended) return MalformedError("the gzip body is truncated");
  return out;
}

}  // namespace clinshub

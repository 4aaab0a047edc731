// gzip (RFC 1952) for HTTP bodies, built so that a body can be assembled from pieces
// compressed at different times: text written now (as stored, uncompressed deflate blocks)
// and runs deflated earlier and kept (the patient summary's entries, api/item_cache.h).
//
// Why that is valid deflate (RFC 1951): a stream is a sequence of blocks, and only the last
// one carries BFINAL. A run deflated on its own and flushed with Z_SYNC_FLUSH (never
// Z_FINISH) ends on a byte boundary with no final block, and its back-references reach only
// into its own text, so runs and stored blocks may follow one another in any order and one
// final empty block closes the stream. The trailer's CRC-32 of the whole is combined from the
// pieces' (crc32_combine) without reading their text again. pigz joins its parallel blocks
// the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace clinshub {

// A piece of a deflate stream: raw blocks, byte-aligned at the start. A run that is not
// final ends byte-aligned with no final block, so anything may follow it; a final run ends
// the stream (its last block is the final one) and must be the last piece.
struct DeflatedRun {
  std::string deflated;
  uint32_t crc32 = 0;  // of the uncompressed text
  uint64_t size = 0;   // uncompressed bytes
  bool final = false;
};

// Level 1 by default: bodies are compressed on a request's path, where a higher level costs
// more CPU than the bytes it saves on a fast link.
DeflatedRun DeflateRun(std::string_view text, int level = 1);
// The same as the stream's last piece: libdeflate, which compresses a whole buffer in one call
// and cannot stop short of a final block, is 1.3–1.6× faster than zlib here and ~20 % smaller
// (bench_gzip).
DeflatedRun DeflateFinalRun(std::string_view text, int level = 1);

// Writes one gzip member piece by piece.
class GzipBuilder {
 public:
  explicit GzipBuilder(size_t expected_bytes = 0);
  // Text not worth compressing now (a few dozen bytes that change per request).
  void AppendText(std::string_view text);
  void AppendRun(const DeflatedRun& run);
  // The member: header, the pieces, a final empty block unless a final run ended them, CRC-32
  // and size. Appending after a final run is a programming error (std::logic_error).
  std::string Finish() &&;

 private:
  void CheckOpen() const;

  std::string out_;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
  bool ended_ = false;  // a final run was appended
};

// `text` as one gzip member, compressed now.
std::string Gzip(std::string_view text, int level = 1);

// The text of a gzip body (one member or several, RFC 1952 §2.2). kMalformed when it is not
// gzip, is truncated or fails its check; kPayloadTooLarge when the text would exceed
// max_bytes (a small body may inflate a thousandfold).
Result<std::string> Gunzip(std::string_view gzip, size_t max_bytes);

}  // namespace clinshub

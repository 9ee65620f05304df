#include "keygate/http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keygate::http {
namespace {

// Feeds `input` to a decoder in pieces of `piece` bytes; returns decoded data, or "ERROR".
std::string decode(const std::string& input, std::size_t piece, std::string* rest = nullptr) {
  chunked_decoder d(64);
  std::string buffered, out;
  std::size_t fed = 0;
  while (true) {
    const auto step = d.next(buffered);
    if (step.what == chunked_decoder::status::data) out.append(step.data);  // view into `buffered`
    buffered.erase(0, step.consumed);
    if (step.what == chunked_decoder::status::data) continue;
    if (step.what == chunked_decoder::status::error)
      return "ERROR";
    else if (step.what == chunked_decoder::status::done) {
      if (rest) *rest = buffered + input.substr(std::min(fed, input.size()));
      return out;
    } else if (step.consumed == 0) {
      if (fed >= input.size()) return "INCOMPLETE";
      buffered += input.substr(fed, piece);
      fed += piece;
    }
  }
}

TEST(ChunkedDecoder, DecodesInAnyPieceSize) {
  const std::string body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 100u}) {
    std::string rest;
    EXPECT_EQ(decode(body, piece, &rest), "hello world") << piece;
    EXPECT_EQ(rest, "NEXT") << piece;
  }
}

TEST(ChunkedDecoder, RejectsMalformedFraming) {
  for (const std::string& bad : std::vector<std::string>{
           "x\r\n", "5\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "-1\r\n", "11111111111111111\r\n",
           "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", "5 \x01\r\nhello\r\n0\r\n\r\n", std::string(100, '1')})
    EXPECT_EQ(decode(bad, 4), "ERROR") << bad;
}

TEST(ChunkedDecoder, IncompleteIsNotDone) {
  EXPECT_EQ(decode("5\r\nhel", 3), "INCOMPLETE");
}

TEST(ChunkedDecoder, EncodesCanonically) {
  std::string out;
  append_chunk(out, std::string(26, 'a'));
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'a') + "\r\n");
}

}  // namespace
}  // namespace keygate::http

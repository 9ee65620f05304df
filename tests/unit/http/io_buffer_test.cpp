#include "keygate/http/io_buffer.hpp"

#include <gtest/gtest.h>

namespace keygate::http {
namespace {

TEST(IoBuffer, ReleasedBuffersAreReusedThroughTheCache) {
  buffer_cache cache(4);
  io_buffer buf(1024, &cache);
  const auto first = buf.prepare();
  ASSERT_EQ(first.size(), 1024u);
  buf.release_if_empty();
  const auto again = buf.prepare();
  EXPECT_EQ(again.data(), first.data()) << "the cached buffer is taken back";
}

TEST(IoBuffer, ReleaseKeepsUnconsumedBytes) {
  buffer_cache cache(4);
  io_buffer buf(64, &cache);
  auto space = buf.prepare();
  std::memcpy(space.data(), "abc", 3);
  buf.commit(3);
  buf.release_if_empty();  // not empty: keeps its bytes
  EXPECT_EQ(buf.data(), "abc");
  buf.consume(3);
  EXPECT_TRUE(buf.empty());
}

TEST(IoBuffer, CacheMatchesSizesAndIsBounded) {
  buffer_cache cache(1);
  io_buffer small(64, &cache), large(128, &cache), other(128, &cache);
  large.prepare();
  const auto* other_mem = other.prepare().data();
  large.release_if_empty();  // cached
  other.release_if_empty();  // cache full: the oldest (large's) makes room
  const auto* small_mem = small.prepare().data();
  EXPECT_NE(small_mem, other_mem) << "a buffer of another size is not handed out";
  EXPECT_EQ(large.prepare().data(), other_mem) << "the newest buffer of the size is reused";
}

TEST(IoBuffer, WorksWithoutACache) {
  io_buffer buf(16);
  auto space = buf.prepare();
  std::memcpy(space.data(), "hi", 2);
  buf.commit(2);
  EXPECT_EQ(buf.data(), "hi");
  buf.consume(2);
  buf.release_if_empty();
  EXPECT_EQ(buf.prepare().size(), 16u);
}

}  // namespace
}  // namespace keygate::http

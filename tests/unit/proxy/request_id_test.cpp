#include "keygate/proxy/request_id.hpp"

#include <gtest/gtest.h>

#include <set>

namespace keygate::proxy {
namespace {

TEST(RequestId, NewIdsAreValidLowercaseHexAndDistinct) {
  std::set<std::string> seen;
  std::string reused;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_request_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_TRUE(is_valid_request_id(id));
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    assign_new_request_id(reused);
    EXPECT_EQ(reused.size(), 32u);
    EXPECT_TRUE(seen.insert(reused).second) << "duplicate " << reused;
  }
}

TEST(RequestId, NewTraceparentsAreValidAndReplaceThePreviousValue) {
  std::string tp = "some much longer previous value that must be replaced entirely by the new one";
  for (int i = 0; i < 1000; ++i) {
    assign_new_traceparent(tp);
    ASSERT_EQ(tp.size(), 55u);
    EXPECT_TRUE(is_valid_traceparent(tp)) << tp;
    EXPECT_EQ(tp.substr(0, 3), "00-");
    EXPECT_EQ(tp.substr(52), "-01");
  }
  EXPECT_TRUE(is_valid_traceparent(new_traceparent()));
}

TEST(RequestId, Validation) {
  EXPECT_TRUE(is_valid_request_id("abc-123_x.y:z"));
  EXPECT_FALSE(is_valid_request_id(""));
  EXPECT_FALSE(is_valid_request_id(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_request_id("a b"));
  EXPECT_FALSE(is_valid_traceparent("00-00000000000000000000000000000000-0000000000000001-01"));
  EXPECT_FALSE(is_valid_traceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
  EXPECT_TRUE(is_valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
}

}  // namespace
}  // namespace keygate::proxy

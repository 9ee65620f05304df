#include "keygate/admin/strict_json.hpp"

#include <gtest/gtest.h>

namespace keygate::admin {
namespace {

std::optional<json_error> parse(const std::string& body, bool empty_ok = false) {
  nlohmann::json out;
  return parse_object(body, {"key_hash", "key_id"}, out, empty_ok);
}

TEST(StrictJson, AcceptsKnownFields) {
  EXPECT_FALSE(parse(R"({"key_id":"x"})"));
}

TEST(StrictJson, RejectsWithTheRightCode) {
  EXPECT_EQ(parse("{not json").value().code, errc::bad_request);
  EXPECT_EQ(parse("").value().code, errc::bad_request);
  EXPECT_EQ(parse(R"({"key_id":"a","key_id":"b"})").value().code, errc::unprocessable);
  EXPECT_EQ(parse(R"({"key_id":"a","extra":1})").value().code, errc::unprocessable);
  EXPECT_EQ(parse(R"(["key_id"])").value().code, errc::unprocessable);
  EXPECT_EQ(parse(R"({"key_id":{"x":1,"x":2}})").value().code, errc::unprocessable);  // nested duplicate
  EXPECT_FALSE(parse("", true));
}

}  // namespace
}  // namespace keygate::admin

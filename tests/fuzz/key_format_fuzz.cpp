// libFuzzer target: the API key parser must never crash, read out of bounds or accept a string
// that fails the format (re-checked here independently: length, alphabet, checksum).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "keygate/auth/key_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keygate;
  static const config::key_prefix prefixes[] = {{"kg_live", true}, {"kg", true}, {"wm", false}};
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto k = auth::parse_key(in, prefixes);
  if (!k) return 0;
  if (k->key != in || k->prefix.size() + 1 + k->body.size() != in.size()) __builtin_trap();
  for (char c : k->body)
    if (auth::base62_alphabet.find(c) == std::string_view::npos) __builtin_trap();
  if (k->checksummed) {
    if (k->body.size() != auth::checksummed_body_chars) __builtin_trap();
    const auto sum = auth::crc_base62(auth::crc32(in.substr(0, in.size() - auth::checksum_chars)));
    if (in.substr(in.size() - auth::checksum_chars) != std::string_view(sum.data(), sum.size()))
      __builtin_trap();
  }
  (void)auth::sha256_hex(in);
  return 0;
}

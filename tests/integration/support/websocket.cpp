#include "integration/support/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace keygate::itest::ws {

std::string accept_key(std::string_view client_key) {
  const std::string input = std::string(client_key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char out[64];
  const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

std::string encode(std::uint8_t op, std::string_view payload, bool mask) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | (op & 0x0f)));
  const std::uint8_t mask_bit = mask ? 0x80 : 0;
  const auto n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (mask) out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(mask ? static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]) : payload[i]);
  return out;
}

std::optional<frame> decode(std::string& buf) {
  if (buf.size() < 2) return std::nullopt;
  const auto b0 = static_cast<unsigned char>(buf[0]);
  const auto b1 = static_cast<unsigned char>(buf[1]);
  frame f;
  f.fin = (b0 & 0x80) != 0;
  f.op = b0 & 0x0f;
  f.masked = (b1 & 0x80) != 0;
  std::uint64_t len = b1 & 0x7f;
  std::size_t pos = 2;
  if (len == 126) {
    if (buf.size() < 4) return std::nullopt;
    len = (static_cast<std::uint64_t>(static_cast<unsigned char>(buf[2])) << 8) |
          static_cast<unsigned char>(buf[3]);
    pos = 4;
  } else if (len == 127) {
    if (buf.size() < 10) return std::nullopt;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(buf[i]);
    pos = 10;
  }
  unsigned char key[4] = {0, 0, 0, 0};
  if (f.masked) {
    if (buf.size() < pos + 4) return std::nullopt;
    for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<unsigned char>(buf[pos + i]);
    pos += 4;
  }
  if (buf.size() < pos + len) return std::nullopt;
  f.payload = buf.substr(pos, static_cast<std::size_t>(len));
  if (f.masked)
    for (std::size_t i = 0; i < f.payload.size(); ++i)
      f.payload[i] = static_cast<char>(static_cast<unsigned char>(f.payload[i]) ^ key[i % 4]);
  buf.erase(0, pos + static_cast<std::size_t>(len));
  return f;
}

}  // namespace keygate::itest::ws

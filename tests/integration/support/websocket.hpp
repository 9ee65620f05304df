// Integration-test support: a minimal RFC 6455 frame codec (text/binary/close/ping frames).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keygate::itest::ws {

enum opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};

struct frame {
  bool fin = true;
  std::uint8_t op = text;
  bool masked = false;
  std::string payload;  // unmasked
};

// base64(SHA-1(key + RFC 6455 GUID)).
std::string accept_key(std::string_view client_key);
// Encodes one frame; clients must mask (a fixed, non-zero mask is used).
std::string encode(std::uint8_t op, std::string_view payload, bool mask);
// Decodes one frame from the front of buf, erasing it; nullopt if incomplete.
std::optional<frame> decode(std::string& buf);

}  // namespace keygate::itest::ws

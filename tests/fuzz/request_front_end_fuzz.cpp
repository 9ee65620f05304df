// libFuzzer target for keygate's request front end: the incremental head scanner (fed in
// pieces, as a socket would), the strict request/response head parsers, and the chunked body
// decoder on whatever follows the head. Invariants checked: no crash or sanitizer report; the
// scanner's verdict does not depend on how the input was split; a parsed head's views lie inside
// the input; the decoder never consumes more than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keygate/http/chunked_decoder.hpp"
#include "keygate/http/head_parser.hpp"

using namespace keygate::http;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

parse_state scan_in_pieces(std::string_view input, std::size_t piece, head_scanner& s) {
  parse_state st = parse_state::incomplete;
  for (std::size_t n = piece; st == parse_state::incomplete; n += piece) {
    st = s.scan(input.substr(0, std::min(n, input.size())));
    if (n >= input.size()) break;
  }
  return st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 16;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const head_limits limits{256, 256, 1024, 16};

  head_scanner whole(limits, true), split(limits, true);
  const auto a = whole.scan(input);
  const auto b = scan_in_pieces(input, piece, split);
  if (a != b) std::abort();  // the verdict must not depend on packet boundaries
  if (a != parse_state::complete) return 0;
  if (whole.head_bytes() != split.head_bytes()) std::abort();

  const auto head = input.substr(0, whole.head_bytes());
  request_head req;
  if (!parse_request_head(head, limits, req)) {
    if (!inside(req.method, head) || !inside(req.host, head)) std::abort();
    for (const auto& f : req.fields)
      if (!inside(f.name, head) || !inside(f.value, head)) std::abort();
    if (req.framing.chunked && req.framing.content_length) std::abort();  // never both
    if (req.framing.chunked) {
      chunked_decoder d(64);
      auto rest = input.substr(head.size());
      for (int guard = 0; guard < 100000; ++guard) {
        const auto step = d.next(rest);
        if (step.consumed > rest.size()) std::abort();
        rest.remove_prefix(step.consumed);
        if (step.what == chunked_decoder::status::done || step.what == chunked_decoder::status::error) break;
        if (step.what == chunked_decoder::status::need_more && step.consumed == 0) break;
      }
    }
  }
  response_head res;
  (void)parse_response_head(head, limits, res);
  return 0;
}

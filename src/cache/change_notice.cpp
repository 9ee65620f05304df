#include "keygate/cache/change_notice.hpp"

#include "keygate/core/text.hpp"
#include "keygate/manage/validation.hpp"

namespace keygate::cache {

void change_set::merge(change_set&& other) {
  keys.merge(other.keys);
  sessions.merge(other.sessions);
  users.merge(other.users);
  tenants.merge(other.tenants);
  notices += other.notices;
  other = change_set{};
}

namespace {

// "<hash>" or "<hash>,<hash>" into `out`; false (nothing added) otherwise.
bool add_hashes(std::string_view list, std::set<std::string, std::less<>>& out) {
  const auto comma = list.find(',');
  const auto first = list.substr(0, comma);
  const auto second = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  if (!core::is_sha256_hex(first)) return false;
  if (comma != std::string_view::npos && !core::is_sha256_hex(second)) return false;
  out.emplace(first);
  if (!second.empty()) out.emplace(second);
  return true;
}

bool add_id(std::string_view id, std::set<std::string, std::less<>>& out) {
  if (!manage::is_valid_external_id(id)) return false;
  out.emplace(id);
  return true;
}

}  // namespace

bool add_change_notice(std::string_view payload, change_set& into) {
  if (payload.size() < 3 || payload.size() > max_change_notice_bytes || payload[1] != ':') return false;
  const auto body = payload.substr(2);
  bool ok = false;
  switch (payload[0]) {
    case 'k':
      ok = add_hashes(body, into.keys);
      break;
    case 's':
      ok = add_hashes(body, into.sessions);
      break;
    case 'u':
      ok = add_id(body, into.users);
      break;
    case 't':
      ok = add_id(body, into.tenants);
      break;
    default:
      break;
  }
  if (ok) ++into.notices;
  return ok;
}

}  // namespace keygate::cache

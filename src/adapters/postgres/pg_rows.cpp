#include "postgres/pg_rows.hpp"

#include "shared/row_mapping.hpp"

namespace keygate::postgres::rows {
namespace {

// The Row of shared/row_mapping.hpp over one pqxx row.
struct reader {
  const pqxx::row& r;
  std::string text(unsigned i) const {
    const auto& f = r[i];
    return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
  }
  std::optional<std::string> opt_text(unsigned i) const {
    if (r[i].is_null()) return std::nullopt;
    return text(i);
  }
  std::int64_t int64(unsigned i) const { return r[i].as<std::int64_t>(); }
  std::optional<std::int64_t> opt_int64(unsigned i) const {
    if (r[i].is_null()) return std::nullopt;
    return int64(i);
  }
  bool boolean(unsigned i) const { return r[i].as<bool>(); }
};

}  // namespace

store::tenant tenant(const pqxx::row& r) {
  return adapters::rows::tenant(reader{r});
}
store::user user(const pqxx::row& r) {
  return adapters::rows::user(reader{r});
}
store::api_key api_key(const pqxx::row& r) {
  return adapters::rows::api_key(reader{r});
}
store::session session(const pqxx::row& r) {
  return adapters::rows::session(reader{r});
}
store::audit_event audit_event(const pqxx::row& r) {
  return adapters::rows::audit_event(reader{r});
}
store::key_record key_record(const pqxx::row& r, std::string key_hash) {
  return adapters::rows::key_record(reader{r}, std::move(key_hash));
}
store::session_record session_record(const pqxx::row& r) {
  return adapters::rows::session_record(reader{r});
}

}  // namespace keygate::postgres::rows

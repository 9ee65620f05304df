// Private to the config loader: checks that need the whole config (references between
// sections), and upstream URL parsing.
#pragma once

#include "config/node_reader.hpp"
#include "keygate/config/config.hpp"

namespace keygate::config {

// Fills scheme/host/port from u.url; false when the URL is not http(s)://host[:port][/].
bool parse_upstream_url(upstream& u);

// Route → upstream references, store backend choice, duplicate names; errors go to `r`.
void validate_cross_references(config& cfg, node_reader& r);

}  // namespace keygate::config

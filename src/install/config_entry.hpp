#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "qcp/install/config_edit.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// Key order as written: a config an operator reads keeps name and apiVersion first.
using Json = nlohmann::ordered_json;

// Our entry as one block-list item whose dash is at `prefix`, each line ended by `newline`.
std::string entry_item(const ProviderSettings& settings, std::string_view prefix,
                       std::string_view newline);

// Our entry as a JSON object.
Json entry_json(const ProviderSettings& settings);

}  // namespace qcp::install

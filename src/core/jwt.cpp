#include "qcp/core/jwt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

namespace qcp::core {
namespace {

constexpr int kInvalid = -1;

constexpr std::array<int, 256> make_decode_table(std::string_view alphabet) {
  std::array<int, 256> table{};
  for (auto& entry : table) {
    entry = kInvalid;
  }
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  return table;
}
constexpr auto kUrlDecodeTable =
    make_decode_table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
constexpr auto kStdDecodeTable =
    make_decode_table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

std::optional<std::string> decode_with(std::string_view text, const std::array<int, 256>& table) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;  // no whole byte ends a group of one character
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = table[static_cast<unsigned char>(c)];
    if (value == kInvalid) {
      return std::nullopt;
    }
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}
constexpr std::int64_t kNumericDateLimit = 1'000'000'000'000'000;

// A NumericDate, saturated to +-kNumericDateLimit seconds (some 31 million years): arithmetic on
// it (leeway, "expires in") can never overflow, and a date that far is as good as never.
std::optional<std::int64_t> numeric_date(const nlohmann::json& claims, const char* key) {
  const auto it = claims.find(key);
  if (it == claims.end()) {
    return std::nullopt;
  }
  if (it->is_number_unsigned()) {
    return std::min(it->get<std::uint64_t>(), static_cast<std::uint64_t>(kNumericDateLimit));
  }
  if (it->is_number_integer()) {
    return std::clamp(it->get<std::int64_t>(), -kNumericDateLimit, kNumericDateLimit);
  }
  if (it->is_number_float()) {
    // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are all we need.
    const double value = it->get<double>();
    if (std::isfinite(value)) {
      const auto limit = static_cast<double>(kNumericDateLimit);
      return static_cast<std::int64_t>(std::floor(std::clamp(value, -limit, limit)));
    }
  }
  return std::nullopt;
}

std::optional<nlohmann::json> decode_json_object(std::string_view segment) {
  const auto bytes = base64url_decode(segment);
  if (!bytes) {
    return std::nullopt;
  }
  auto value = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    return std::nullopt;
  }
  return value;
}

std::string string_at(const nlohmann::json& object, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) {
      return {};
    }
    const auto found = at->find(key);
    if (found == at->end()) {
      return {};
    }
    at = &*found;
  }
  return at->is_string() ? at->get<std::string>() : std::string();
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8U) | (j < left ? static_cast<unsigned char>(bytes[i + j]) : 0U);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= left ? kAlphabet[(group >> (18U - 6U * j)) & 0x3FU] : '=';
    }
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode_with(text, kUrlDecodeTable);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode_with(text, kStdDecodeTable);
}

std::optional<JwtClaims> decode_jwt_claims(std::string_view token) {
  const auto first_dot = token.find('.');
  if (first_dot == std::string_view::npos) {
    return std::nullopt;
  }
  const auto second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const auto header = decode_json_object(token.substr(0, first_dot));
  const auto payload = decode_json_object(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!header || !payload || !base64url_decode(token.substr(second_dot + 1))) {
    return std::nullopt;
  }

  JwtClaims claims;
  claims.alg = string_at(*header, {"alg"});
  claims.kid = string_at(*header, {"kid"});
  claims.kubernetes.namespace_name = string_at(*payload, {"kubernetes.io", "namespace"});
  claims.kubernetes.service_account =
      string_at(*payload, {"kubernetes.io", "serviceaccount", "name"});
  claims.kubernetes.service_account_uid =
      string_at(*payload, {"kubernetes.io", "serviceaccount", "uid"});
  claims.kubernetes.pod = string_at(*payload, {"kubernetes.io", "pod", "name"});
  claims.kubernetes.pod_uid = string_at(*payload, {"kubernetes.io", "pod", "uid"});
  claims.kubernetes.node = string_at(*payload, {"kubernetes.io", "node", "name"});
  claims.exp = numeric_date(*payload, "exp");
  claims.iat = numeric_date(*payload, "iat");
  claims.nbf = numeric_date(*payload, "nbf");
  if (const auto iss = payload->find("iss"); iss != payload->end() && iss->is_string()) {
    claims.iss = iss->get<std::string>();
  }
  if (const auto sub = payload->find("sub"); sub != payload->end() && sub->is_string()) {
    claims.sub = sub->get<std::string>();
  }
  if (const auto aud = payload->find("aud"); aud != payload->end()) {
    if (aud->is_string()) {
      claims.aud.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const auto& entry : *aud) {
        if (entry.is_string()) {
          claims.aud.push_back(entry.get<std::string>());
        }
      }
    }
  }
  return claims;
}

}  // namespace qcp::core

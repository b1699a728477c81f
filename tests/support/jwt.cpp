#include "jwt.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "ossl.hpp"
#include "test_keys.hpp"

namespace qcp::test {
namespace {

using detail::check;

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
        static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) {
      out += alphabet[(v >> 6) & 63];
    }
    if (pad) {
      out.append(rest == 1 ? 2 : 1, '=');
    }
  }
  return out;
}

std::string bn_bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &raw) == 1, "EVP_PKEY_get_bn_param");
  const detail::BnPtr bn(raw);
  return bn_bytes(bn.get());
}

detail::PkeyPtr generate_rsa2048() {
  const detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  check(ctx != nullptr, "EVP_PKEY_CTX_new_from_name(RSA)");
  check(EVP_PKEY_keygen_init(ctx.get()) == 1, "EVP_PKEY_keygen_init");
  check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1, "set_rsa_keygen_bits");
  EVP_PKEY* raw = nullptr;
  check(EVP_PKEY_generate(ctx.get(), &raw) == 1, "EVP_PKEY_generate(RSA)");
  return detail::PkeyPtr(raw);
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) == 1,
        "EVP_Digest");
  return {reinterpret_cast<const char*>(md.data()), len};
}

std::string der_public_key(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  check(len > 0, "i2d_PUBKEY");
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  check(i2d_PUBKEY(key, &p) == len, "i2d_PUBKEY");
  return out;
}

// Public RSA key from a JWK's n and e; nullptr when the JWK is not a usable RSA key.
detail::PkeyPtr pkey_from_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object() || jwk.value("kty", "") != "RSA" || !jwk.contains("n") ||
      !jwk.contains("e") || !jwk["n"].is_string() || !jwk["e"].is_string()) {
    return nullptr;
  }
  const auto n = base64url_decode(jwk["n"].get<std::string>());
  const auto e = base64url_decode(jwk["e"].get<std::string>());
  if (!n || !e || n->empty() || e->empty()) {
    return nullptr;
  }
  const detail::BnPtr bn_n(BN_bin2bn(detail::as_uchar(*n), static_cast<int>(n->size()), nullptr));
  const detail::BnPtr bn_e(BN_bin2bn(detail::as_uchar(*e), static_cast<int>(e->size()), nullptr));
  using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>>;
  using ParamsPtr = std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>>;
  const BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  const ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  const detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return detail::PkeyPtr(raw);
}

std::optional<nlohmann::json> verify_with(std::string_view token, EVP_PKEY* key) {
  const auto jwt = decode_jwt_unverified(token);
  if (!jwt || key == nullptr) {
    return std::nullopt;
  }
  const std::string alg = jwt->header.value("alg", "");
  if (alg != "RS256" && alg != "RS384") {
    return std::nullopt;
  }
  const EVP_MD* digest = alg == "RS384" ? EVP_sha384() : EVP_sha256();
  const detail::MdCtxPtr md(EVP_MD_CTX_new());
  const bool ok =
      md != nullptr && EVP_DigestVerifyInit(md.get(), nullptr, digest, nullptr, key) == 1 &&
      EVP_DigestVerify(md.get(), detail::as_uchar(jwt->signature), jwt->signature.size(),
                       detail::as_uchar(jwt->signing_input), jwt->signing_input.size()) == 1;
  ERR_clear_error();
  if (!ok) {
    return std::nullopt;
  }
  return jwt->payload;
}

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  check(RAND_bytes(b.data(), static_cast<int>(b.size())) == 1, "RAND_bytes");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  constexpr std::string_view kHex = "0123456789abcdef";
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

// A stable UID per name, so the same service account always has the same uid within a process.
std::string name_uid(std::string_view kind, std::string_view name) {
  const std::string digest = sha256(std::string(kind) + "/" + std::string(name));
  std::string out;
  constexpr std::string_view kHex = "0123456789abcdef";
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto c = static_cast<unsigned char>(digest[i]);
    out += kHex[c >> 4];
    out += kHex[c & 0x0f];
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view data) {
  return encode(data, kUrlAlphabet, false);
}

std::string base64_encode(std::string_view data) {
  return encode(data, kStdAlphabet, true);
}

namespace {

std::optional<std::string> decode_with(std::string_view text, std::string_view alphabet) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const std::size_t pos = alphabet.find(c);
    if (pos == std::string_view::npos) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode_with(text, kUrlAlphabet);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode_with(text, kStdAlphabet);
}

std::optional<DecodedJwt> decode_jwt_unverified(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const auto header = base64url_decode(token.substr(0, first));
  const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature) {
    return std::nullopt;
  }
  DecodedJwt out;
  out.header = nlohmann::json::parse(*header, nullptr, false);
  out.payload = nlohmann::json::parse(*payload, nullptr, false);
  if (!out.header.is_object() || !out.payload.is_object()) {
    return std::nullopt;
  }
  out.signing_input = std::string(token.substr(0, second));
  out.signature = *signature;
  return out;
}

std::string RsaSigner::libtrust_key_id() const {
  constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const std::string digest = sha256(der_public_key(key_.get())).substr(0, 30);
  std::string encoded;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char byte : digest) {
    buffer = (buffer << 8U) | static_cast<unsigned char>(byte);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      encoded += kBase32[(buffer >> static_cast<unsigned>(bits)) & 0x1FU];
    }
  }
  std::string id;
  for (std::size_t i = 0; i < encoded.size(); i += 4) {
    id += (id.empty() ? "" : ":") + encoded.substr(i, 4);
  }
  return id;
}

std::string RsaSigner::self_signed_certificate_pem(const std::string& common_name) const {
  const detail::X509Ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "ASN1_INTEGER_set");
  constexpr long kHour = 3600;
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kHour) != nullptr, "X509_gmtime_adj");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * kHour) != nullptr, "X509_gmtime_adj");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
  check(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key_.get()) == 1, "X509_set_pubkey");
  check(X509_sign(cert.get(), key_.get(), EVP_sha256()) > 0, "X509_sign");
  const detail::BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_X509(bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
  return detail::bio_to_string(bio.get());
}

RsaSigner::RsaSigner() : RsaSigner(std::string{}) {}

RsaSigner::RsaSigner(std::shared_ptr<evp_pkey_st> key, std::string kid)
    : key_(std::move(key)), kid_(std::move(kid)) {}

RsaSigner RsaSigner::shared(SharedKey which) {
  const auto load = [](const char* pem) {
    const detail::BioPtr bio(BIO_new_mem_buf(pem, -1));
    check(bio != nullptr, "BIO_new_mem_buf");
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    check(raw != nullptr, "PEM_read_bio_PrivateKey(test key)");
    std::shared_ptr<evp_pkey_st> key(raw, detail::Deleter<EVP_PKEY_free>{});
    std::string kid = base64url_encode(sha256(der_public_key(key.get())));
    return RsaSigner(std::move(key), std::move(kid));
  };
  // Function-local statics: read on first use, thread-safe, once per process.
  static const RsaSigner issuer = load(kIssuerKeyPem);
  static const RsaSigner instance = load(kQuayInstanceKeyPem);
  return which == SharedKey::kIssuer ? issuer : instance;
}

RsaSigner::RsaSigner(std::string kid) : kid_(std::move(kid)) {
  detail::PkeyPtr key = generate_rsa2048();
  if (kid_.empty()) {
    kid_ = base64url_encode(sha256(der_public_key(key.get())));
  }
  key_ = std::shared_ptr<evp_pkey_st>(key.release(), detail::Deleter<EVP_PKEY_free>{});
}

std::string RsaSigner::sign(const nlohmann::json& header_extra,
                            const nlohmann::json& claims) const {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
  if (header_extra.is_object()) {
    for (const auto& [name, value] : header_extra.items()) {
      if (value.is_null()) {
        header.erase(name);
      } else {
        header[name] = value;
      }
    }
  }
  const std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  const detail::MdCtxPtr md(EVP_MD_CTX_new());
  check(md != nullptr, "EVP_MD_CTX_new");
  const EVP_MD* digest = header.value("alg", "") == "RS384" ? EVP_sha384() : EVP_sha256();
  check(EVP_DigestSignInit(md.get(), nullptr, digest, nullptr, key_.get()) == 1,
        "EVP_DigestSignInit");
  std::size_t len = 0;
  check(EVP_DigestSign(md.get(), nullptr, &len, detail::as_uchar(signing_input),
                       signing_input.size()) == 1,
        "EVP_DigestSign");
  std::string signature(len, '\0');
  check(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       detail::as_uchar(signing_input), signing_input.size()) == 1,
        "EVP_DigestSign");
  signature.resize(len);
  return signing_input + "." + base64url_encode(signature);
}

nlohmann::json RsaSigner::jwk() const {
  return {{"kty", "RSA"},
          {"use", "sig"},
          {"alg", "RS256"},
          {"kid", kid_},
          {"n", base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
          {"e", base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

nlohmann::json RsaSigner::jwks() const {
  return {{"keys", nlohmann::json::array({jwk()})}};
}

std::optional<nlohmann::json> RsaSigner::verify(std::string_view token, const nlohmann::json& jwk) {
  const detail::PkeyPtr key = pkey_from_jwk(jwk);
  return verify_with(token, key.get());
}

std::optional<nlohmann::json> RsaSigner::verify(std::string_view token, const RsaSigner& signer) {
  return verify_with(token, signer.key_.get());
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

nlohmann::json service_account_claims(const ServiceAccountTokenSpec& spec) {
  const auto iat = spec.issued_at.value_or(std::chrono::system_clock::now());
  const std::int64_t now = unix_seconds(iat);
  return {
      {"aud", spec.audiences},
      {"exp", now + spec.lifetime.count()},
      {"iat", now},
      {"iss", spec.issuer},
      {"jti", random_uuid()},
      {"kubernetes.io",
       {{"namespace", spec.ns},
        {"node", {{"name", spec.node_name}, {"uid", name_uid("node", spec.node_name)}}},
        {"pod", {{"name", spec.pod_name}, {"uid", name_uid("pod", spec.ns + "/" + spec.pod_name)}}},
        {"serviceaccount",
         {{"name", spec.service_account},
          {"uid", name_uid("serviceaccount", spec.ns + "/" + spec.service_account)}}}}},
      {"nbf", now},
      {"sub", "system:serviceaccount:" + spec.ns + ":" + spec.service_account},
  };
}

std::string mint_service_account_token(const RsaSigner& signer,
                                       const ServiceAccountTokenSpec& spec) {
  // kube-apiserver's header carries alg and kid only.
  return signer.sign({{"typ", nullptr}}, service_account_claims(spec));
}

}  // namespace qcp::test

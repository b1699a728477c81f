#include "pki.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "ossl.hpp"

namespace qcp::test {
namespace {

using detail::check;

detail::PkeyPtr generate_p256() {
  const detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  check(ctx != nullptr, "EVP_PKEY_CTX_new_from_name(EC)");
  check(EVP_PKEY_keygen_init(ctx.get()) == 1, "EVP_PKEY_keygen_init");
  check(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") == 1, "EVP_PKEY_CTX_set_group_name");
  EVP_PKEY* raw = nullptr;
  check(EVP_PKEY_generate(ctx.get(), &raw) == 1, "EVP_PKEY_generate(P-256)");
  return detail::PkeyPtr(raw);
}

void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  check(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1, "RAND_bytes");
  bytes[0] &= 0x7f;  // positive
  bytes[0] |= 0x01;  // and never zero
  const detail::BnPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  check(bn != nullptr, "BN_bin2bn");
  check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr, "BN_to_ASN1_INTEGER");
}

void set_common_name(X509_NAME* name, std::string_view organization, std::string_view cn) {
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, detail::as_uchar(organization),
                                   static_cast<int>(organization.size()), -1, 0) == 1,
        "X509_NAME_add_entry_by_txt(O)");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, detail::as_uchar(cn),
                                   static_cast<int>(cn.size()), -1, 0) == 1,
        "X509_NAME_add_entry_by_txt(CN)");
}

// issuer == nullptr: self-signed (ctx issuer is the certificate itself).
void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  const detail::X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "X509V3_EXT_nconf_nid(" + value + ")");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

detail::X509Ptr new_cert(EVP_PKEY* subject_key, long not_before_s, long not_after_s) {
  detail::X509Ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
  set_random_serial(cert.get());
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before_s) != nullptr,
        "X509_gmtime_adj");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_s) != nullptr, "X509_gmtime_adj");
  check(X509_set_pubkey(cert.get(), subject_key) == 1, "X509_set_pubkey");
  return cert;
}

std::string cert_pem(X509* cert) {
  const detail::BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return detail::bio_to_string(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  const detail::BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr &&
            PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return detail::bio_to_string(bio.get());
}

void write_file(const std::filesystem::path& path, const std::string& content,
                std::filesystem::perms perms) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      throw std::runtime_error("cannot write " + path.string());
    }
  }
  std::filesystem::permissions(path, perms, std::filesystem::perm_options::replace);
}

constexpr long kHour = 3600;
constexpr long kDay = 24 * kHour;

}  // namespace

struct TestPki::Impl {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string intermediate_pem;
  std::string server_key_pem;
};

TestPki::TestPki() : TestPki(TestPkiOptions{}) {}

TestPki::TestPki(const TestPkiOptions& options) : impl_(std::make_unique<Impl>()) {
  // CA: self-signed, CA:TRUE, may only sign certificates.
  const detail::PkeyPtr ca_key = generate_p256();
  const detail::X509Ptr ca =
      options.ca_validity == CaValidity::kExpired       ? new_cert(ca_key.get(), -2 * kDay, -kDay)
      : options.ca_validity == CaValidity::kNotYetValid ? new_cert(ca_key.get(), kDay, 2 * kDay)
                                                        : new_cert(ca_key.get(), -kHour, kDay);
  X509_NAME* ca_name = X509_get_subject_name(ca.get());
  set_common_name(ca_name, "qcp tests", options.ca_common_name);
  check(X509_set_issuer_name(ca.get(), ca_name) == 1, "X509_set_issuer_name");
  add_extension(ca.get(), nullptr, NID_basic_constraints,
                options.intermediate ? "critical,CA:TRUE,pathlen:1" : "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), nullptr, NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign(CA)");

  // Intermediate (optional): signed by the CA, signs the leaf.
  detail::PkeyPtr intermediate_key;
  detail::X509Ptr intermediate;
  if (options.intermediate) {
    intermediate_key = generate_p256();
    intermediate = new_cert(intermediate_key.get(), -kHour, kDay);
    set_common_name(X509_get_subject_name(intermediate.get()), "qcp tests",
                    "qcp test intermediate CA");
    check(X509_set_issuer_name(intermediate.get(), ca_name) == 1, "X509_set_issuer_name");
    add_extension(intermediate.get(), ca.get(), NID_basic_constraints,
                  "critical,CA:TRUE,pathlen:0");
    add_extension(intermediate.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(intermediate.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_extension(intermediate.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    check(X509_sign(intermediate.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign(intermediate)");
  }
  X509* signer = intermediate ? intermediate.get() : ca.get();
  EVP_PKEY* signer_key = intermediate ? intermediate_key.get() : ca_key.get();

  // Leaf: TLS server certificate for loopback names.
  std::string san;
  if (options.default_sans) {
    san = "IP:127.0.0.1,IP:::1,DNS:localhost,DNS:quay.test";
  }
  for (const std::string& name : options.extra_dns_names) {
    san += san.empty() ? "DNS:" : ",DNS:";
    san += name;
  }
  if (san.empty() && !options.common_name_only) {
    throw std::invalid_argument("TestPki: the server certificate needs at least one SAN");
  }
  const detail::PkeyPtr leaf_key = generate_p256();
  const detail::X509Ptr leaf = options.expired_server_cert
                                   ? new_cert(leaf_key.get(), -2 * kDay, -kDay)
                                   : new_cert(leaf_key.get(), -kHour, kDay);
  set_common_name(X509_get_subject_name(leaf.get()), "qcp tests",
                  options.common_name_only ? "127.0.0.1" : "fake quay");
  check(X509_set_issuer_name(leaf.get(), X509_get_subject_name(signer)) == 1,
        "X509_set_issuer_name");
  add_extension(leaf.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(leaf.get(), signer, NID_key_usage, "critical,digitalSignature");
  add_extension(leaf.get(), signer, NID_ext_key_usage, "serverAuth");
  if (!options.common_name_only) {
    add_extension(leaf.get(), signer, NID_subject_alt_name, san);
  }
  add_extension(leaf.get(), signer, NID_subject_key_identifier, "hash");
  add_extension(leaf.get(), signer, NID_authority_key_identifier, "keyid:always");
  check(X509_sign(leaf.get(), signer_key, EVP_sha256()) > 0, "X509_sign(leaf)");

  impl_->ca_pem = cert_pem(ca.get());
  impl_->intermediate_pem = intermediate ? cert_pem(intermediate.get()) : std::string();
  impl_->server_cert_pem = cert_pem(leaf.get()) + impl_->intermediate_pem;
  impl_->server_key_pem = key_pem(leaf_key.get());
}

TestPki::TestPki(TestPki&&) noexcept = default;
TestPki& TestPki::operator=(TestPki&&) noexcept = default;
TestPki::~TestPki() = default;

const std::string& TestPki::ca_pem() const {
  return impl_->ca_pem;
}
const std::string& TestPki::server_cert_pem() const {
  return impl_->server_cert_pem;
}
const std::string& TestPki::intermediate_pem() const {
  return impl_->intermediate_pem;
}
const std::string& TestPki::server_key_pem() const {
  return impl_->server_key_pem;
}

std::filesystem::path TestPki::write_ca(const std::filesystem::path& dir) const {
  using std::filesystem::perms;
  std::filesystem::path path = dir / "ca.pem";
  write_file(path, impl_->ca_pem,
             perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
  return path;
}

void TestPki::write_all(const std::filesystem::path& dir) const {
  using std::filesystem::perms;
  write_ca(dir);
  write_file(dir / "server.pem", impl_->server_cert_pem, perms::owner_read | perms::owner_write);
  write_file(dir / "server-key.pem", impl_->server_key_pem, perms::owner_read | perms::owner_write);
}

}  // namespace qcp::test

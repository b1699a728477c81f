// The trusted CAs as a real node holds them: a bundle of ~150 certificates in which the provider
// decodes only what the verifier asks for (CaBundle), and a hashed CA directory. Every case runs
// a whole lookup over real TLS against the fake Quay.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>

#include "harness.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;

// CAs unrelated to the server, each with its own subject, as in a distribution's bundle.
std::string other_cas(int count) {
  std::string pem;
  for (int i = 0; i < count; ++i) {
    TestPkiOptions options;
    options.ca_common_name = "unrelated CA " + std::to_string(i);
    pem += TestPki(options).ca_pem();
  }
  return pem;
}

std::string garbage_blocks() {
  return "# a label line as RHEL's bundle has\n"
         "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n"
         "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIG5vdCBERVI=\n-----END CERTIFICATE-----\n"
         "-----BEGIN X509 CRL-----\naGVsbG8=\n-----END X509 CRL-----\n"
         "-----BEGIN CERTIFICATE-----\naGVsbG8=\n"  // no END: skipped up to the next block
         "some text between blocks\n";
}

class TrustStore : public ::testing::Test {
 protected:
  explicit TrustStore(const TestPkiOptions& options = {}) : pki_(options), quay_(pki_) {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:app:puller", {}}});
    token_ = quay_.mint_service_account_token("app", "puller");
  }

  std::string write(const std::string& name, const std::string& content) const {
    const auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  Outcome lookup(const std::vector<std::string>& args,
                 const Environment& env = clean_environment()) {
    return run_plugin(make_request(quay_.host() + "/team/app", token_,
                                   {{"quay.io/federated-robot-account", kRobot}}),
                      args, env);
  }
  Outcome lookup_with_bundle(const std::string& bundle) {
    return lookup({"--ca-file", write("bundle.pem", bundle)});
  }

  [[nodiscard]] std::unique_ptr<X509, decltype(&X509_free)> ca_certificate() const {
    const std::unique_ptr<BIO, decltype(&BIO_free)> in(
        BIO_new_mem_buf(pki_.ca_pem().data(), static_cast<int>(pki_.ca_pem().size())), &BIO_free);
    return {PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), &X509_free};
  }

  void expect_success(const Outcome& outcome) const {
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    EXPECT_THAT(outcome.out, HasSubstr("CredentialProviderResponse"));
    EXPECT_EQ(quay_.request_count(), 1U);
  }
  void expect_refused(const Outcome& outcome, const std::string& reason) const {
    EXPECT_EQ(outcome.exit_code, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_THAT(outcome.err, HasSubstr("TLS certificate problem with Quay"));
    EXPECT_THAT(outcome.err, HasSubstr(reason));
    EXPECT_EQ(quay_.request_count(), 0U);
    expect_no_leak(outcome.err, {token_});
  }

  TempDir dir_;
  TestPki pki_;
  FakeQuay quay_;
  std::string token_;
};

TEST_F(TrustStore, TheRightCaLastInABundleOf150IsFound) {
  expect_success(lookup_with_bundle(other_cas(149) + pki_.ca_pem()));
}

TEST_F(TrustStore, TheRightCaFirstInABundleOf150IsFound) {
  expect_success(lookup_with_bundle(pki_.ca_pem() + other_cas(149)));
}

TEST_F(TrustStore, ABundleWithoutTheRightCaIsRefused) {
  expect_refused(lookup_with_bundle(other_cas(150)), "unable to get local issuer certificate");
}

TEST_F(TrustStore, ACaWithTheRightNameButAnotherKeyIsRefused) {
  TestPki impostor;  // same subject, "O=qcp tests, CN=qcp test CA", a different key
  expect_refused(lookup_with_bundle(other_cas(20) + impostor.ca_pem()), "certificate problem");
}

TEST_F(TrustStore, OfTwoCasWithTheSameNameTheOneThatSignedIsUsed) {
  TestPki impostor;
  expect_success(lookup_with_bundle(impostor.ca_pem() + other_cas(20) + pki_.ca_pem()));
}

TEST_F(TrustStore, GarbageEntriesAreSkipped) {
  expect_success(lookup_with_bundle(garbage_blocks() + other_cas(10) + garbage_blocks() +
                                    pki_.ca_pem() + garbage_blocks()));
}

// The subject is readable, the certificate is not: skipped when the verifier asks for it.
std::string truncated(const std::string& pem) {
  const auto last_body_line = pem.rfind('\n', pem.rfind("-----END") - 2);
  const auto cut = pem.rfind('\n', last_body_line - 1);
  return pem.substr(0, cut + 1) + pem.substr(last_body_line + 1);
}

TEST_F(TrustStore, ACertificateThatDoesNotDecodeIsSkipped) {
  expect_refused(lookup_with_bundle(truncated(pki_.ca_pem())),
                 "unable to get local issuer certificate");
  expect_success(lookup_with_bundle(truncated(pki_.ca_pem()) + other_cas(5) + pki_.ca_pem()));
}

TEST_F(TrustStore, ABundleOfGarbageIsRefusedBeforeConnecting) {
  const auto outcome = lookup_with_bundle(garbage_blocks());
  expect_refused(outcome, "holds no PEM certificate");
  EXPECT_EQ(quay_.handshakes_completed(), 0U);
}

TEST_F(TrustStore, WindowsLineEndsAreRead) {
  std::string crlf;
  for (const char c : other_cas(3) + pki_.ca_pem()) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  expect_success(lookup_with_bundle(crlf));
}

TEST_F(TrustStore, TrustSettingsThatRejectServerAuthAreHonoured) {
  const auto ca = ca_certificate();
  ASSERT_NE(ca, nullptr);
  const auto trusted_form = [&ca](bool reject) {
    ASN1_OBJECT* server_auth = OBJ_nid2obj(NID_server_auth);
    X509_trust_clear(ca.get());
    X509_reject_clear(ca.get());
    if (reject) {
      X509_add1_reject_object(ca.get(), server_auth);
    } else {
      X509_add1_trust_object(ca.get(), server_auth);
    }
    const std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_X509_AUX(out.get(), ca.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  ASSERT_THAT(trusted_form(true), HasSubstr("BEGIN TRUSTED CERTIFICATE"));
  expect_refused(lookup_with_bundle(other_cas(5) + trusted_form(true)), "certificate rejected");
  expect_success(lookup_with_bundle(other_cas(5) + trusted_form(false)));
}

TEST_F(TrustStore, TheSystemBundleWithTheRightCaAddedIsFound) {
  std::ifstream system_bundle("/etc/ssl/certs/ca-certificates.crt");
  if (!system_bundle) {
    GTEST_SKIP() << "no /etc/ssl/certs/ca-certificates.crt on this machine";
  }
  const std::string text{std::istreambuf_iterator<char>(system_bundle), {}};
  expect_success(lookup_with_bundle(text + pki_.ca_pem()));
}

TEST_F(TrustStore, AHashedCaDirectoryIsUsed) {
  const auto ca = ca_certificate();
  ASSERT_NE(ca, nullptr);
  std::filesystem::create_directory(dir_.path() / "certs");
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08lx", X509_subject_name_hash(ca.get()));
  write("certs/" + std::string(hash) + ".0", pki_.ca_pem());
  expect_success(lookup({"--ca-dir", (dir_.path() / "certs").string()}));
}

TEST_F(TrustStore, AnEmptyCaDirectoryIsRefused) {
  std::filesystem::create_directory(dir_.path() / "empty");
  expect_refused(lookup({"--ca-dir", (dir_.path() / "empty").string()}), "certificate problem");
}

// The same lookups against a server whose PKI differs in one way.
template <CaValidity kValidity, bool kIntermediate>
class TrustStoreFor : public TrustStore {
 protected:
  static TestPkiOptions options() {
    TestPkiOptions options;
    options.ca_validity = kValidity;
    options.intermediate = kIntermediate;
    return options;
  }
  TrustStoreFor() : TrustStore(options()) {}
};
using ExpiredCa = TrustStoreFor<CaValidity::kExpired, false>;
using NotYetValidCa = TrustStoreFor<CaValidity::kNotYetValid, false>;
using IntermediateChain = TrustStoreFor<CaValidity::kCurrent, true>;

TEST_F(ExpiredCa, IsRefused) {
  expect_refused(lookup_with_bundle(other_cas(10) + pki_.ca_pem()), "certificate has expired");
}

TEST_F(NotYetValidCa, IsRefused) {
  expect_refused(lookup_with_bundle(pki_.ca_pem()), "certificate is not yet valid");
}

TEST_F(IntermediateChain, TheRootInTheBundleVerifiesTheChainTheServerSends) {
  ASSERT_FALSE(pki_.intermediate_pem().empty());
  expect_success(lookup_with_bundle(other_cas(30) + pki_.ca_pem() + other_cas(30)));
}

TEST_F(IntermediateChain, TheIntermediateAloneIsTrustedAsAPartialChain) {
  // libcurl sets X509_V_FLAG_PARTIAL_CHAIN: any CA in the trust store may anchor the chain.
  expect_success(lookup_with_bundle(other_cas(30) + pki_.intermediate_pem()));
}

TEST_F(IntermediateChain, NeitherRootNorIntermediateIsRefused) {
  expect_refused(lookup_with_bundle(other_cas(30)), "unable to get local issuer certificate");
}

}  // namespace
}  // namespace qcp::test

// CaBundle against OpenSSL itself: the subjects it reads are OpenSSL's, and its name matching
// never misses a pair that X509_NAME_cmp calls equal.
#include "qcp/net/ca_bundle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "layers.hpp"
#include "pki.hpp"

namespace qcp {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using NamePtr = std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)>;

std::vector<X509Ptr> openssl_read_all(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::vector<X509Ptr> certificates;
  while (X509* certificate = PEM_read_bio_X509_AUX(in.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate, &X509_free);
  }
  return certificates;
}

std::span<const std::uint8_t> der_of(const X509_NAME* name) {
  const unsigned char* der = nullptr;
  std::size_t length = 0;
  EXPECT_EQ(X509_NAME_get0_der(name, &der, &length), 1);
  return {der, length};
}

// The machine's own bundle (package ca-certificates): ~145 real CAs of every kind of name.
class SystemBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in("/etc/ssl/certs/ca-certificates.crt");
    pem = in ? std::string(std::istreambuf_iterator<char>(in), {}) : std::string();
    if (pem.empty()) {
      GTEST_SKIP() << "no /etc/ssl/certs/ca-certificates.crt";
    }
  }
  std::string pem;
};

TEST_F(SystemBundle, EveryCertificateIsReadAsOpenSslReadsIt) {
  const auto expected = openssl_read_all(pem);
  const CaBundle bundle(pem);
  ASSERT_GT(expected.size(), 100U);
  ASSERT_EQ(bundle.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto der = bundle.der(i);
    ASSERT_TRUE(der.has_value());
    const unsigned char* at = der->data();
    const X509Ptr decoded(d2i_X509(nullptr, &at, static_cast<long>(der->size())), &X509_free);
    ASSERT_NE(decoded, nullptr);
    EXPECT_EQ(X509_cmp(decoded.get(), expected[i].get()), 0) << i;
    const SubjectScan scan = find_subject(*der);
    ASSERT_TRUE(scan.subject.has_value()) << i;
    const auto subject = der_of(X509_get_subject_name(expected[i].get()));
    EXPECT_TRUE(
        std::equal(scan.subject->begin(), scan.subject->end(), subject.begin(), subject.end()))
        << i;
  }
}

TEST_F(SystemBundle, NamesMatchExactlyWhatX509NameCmpMatches) {
  const auto certificates = openssl_read_all(pem);
  const CaBundle bundle(pem);
  std::size_t certain = 0;
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    const X509_NAME* name = X509_get_subject_name(certificates[i].get());
    const auto candidates = bundle.candidates(der_of(name));
    for (std::size_t j = 0; j < certificates.size(); ++j) {
      const bool equal = X509_NAME_cmp(name, X509_get_subject_name(certificates[j].get())) == 0;
      const auto found = std::find_if(candidates.begin(), candidates.end(),
                                      [j](const auto& candidate) { return candidate.index == j; });
      if (equal) {
        ASSERT_NE(found, candidates.end()) << i << " misses " << j;
      }
      if (found != candidates.end() && found->certain) {
        EXPECT_TRUE(equal) << i << " and " << j << " are not the same name";
        certain += i == j ? 1 : 0;
      }
    }
    // Few candidates per name: that is the whole point.
    EXPECT_LE(candidates.size(), 8U) << i;
  }
  // Most of a real bundle's names are plain ASCII, settled without OpenSSL.
  EXPECT_GT(certain, certificates.size() * 3 / 4);
}

// A name built with OpenSSL from (field, type, value) triples, one RDN each unless `set` > 0.
NamePtr make_name(const std::vector<std::tuple<std::string, int, std::string, int>>& entries) {
  NamePtr name(X509_NAME_new(), &X509_NAME_free);
  for (const auto& [field, type, value, set] : entries) {
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name.get(), field.c_str(), type,
                                         reinterpret_cast<const unsigned char*>(value.data()),
                                         static_cast<int>(value.size()), -1, set),
              1);
  }
  return name;
}

KeyMatch match(const NamePtr& a, const NamePtr& b) {
  return keys_match(fold_name(der_of(a.get())), fold_name(der_of(b.get())));
}

TEST(NameFolding, CaseAndSpaceFoldLikeOpenSsl) {
  const auto a = make_name({{"O", V_ASN1_PRINTABLESTRING, "  Example   Corp ", 0},
                            {"CN", V_ASN1_UTF8STRING, "Root\tCA", 0}});
  const auto b = make_name(
      {{"O", V_ASN1_UTF8STRING, "example corp", 0}, {"CN", V_ASN1_IA5STRING, "ROOT CA", 0}});
  ASSERT_EQ(X509_NAME_cmp(a.get(), b.get()), 0);
  EXPECT_EQ(match(a, b), KeyMatch::kYes);
}

TEST(NameFolding, DifferentValuesTypesOrLengthsDoNotMatch) {
  const auto base = make_name({{"O", V_ASN1_UTF8STRING, "Example", 0}});
  EXPECT_EQ(match(base, make_name({{"O", V_ASN1_UTF8STRING, "Example2", 0}})), KeyMatch::kNo);
  EXPECT_EQ(match(base, make_name({{"OU", V_ASN1_UTF8STRING, "Example", 0}})), KeyMatch::kNo);
  EXPECT_EQ(match(base, make_name({{"O", V_ASN1_UTF8STRING, "Example", 0},
                                   {"CN", V_ASN1_UTF8STRING, "x", 0}})),
            KeyMatch::kNo);
  EXPECT_EQ(match(base, make_name({})), KeyMatch::kNo);
}

TEST(NameFolding, WhatOnlyOpenSslCanCompareIsAMaybe) {
  const auto ascii = make_name({{"O", V_ASN1_UTF8STRING, "Zertifikat", 0}});
  // Non-ASCII UTF-8, a BMPString, a multi-valued RDN: never ruled out, never taken as certain.
  EXPECT_EQ(match(ascii, make_name({{"O", V_ASN1_UTF8STRING, "Zertifik\xc3\xa4t", 0}})),
            KeyMatch::kMaybe);
  std::string bmp;
  for (const char c : std::string("Zertifikat")) {
    bmp += std::string(1, '\0') + c;
  }
  const auto bmp_name = make_name({{"O", V_ASN1_BMPSTRING, bmp, 0}});
  ASSERT_EQ(X509_NAME_cmp(ascii.get(), bmp_name.get()), 0);  // the same name for OpenSSL
  EXPECT_EQ(match(ascii, bmp_name), KeyMatch::kMaybe);
  const auto multi =
      make_name({{"O", V_ASN1_UTF8STRING, "Zertifikat", 0}, {"CN", V_ASN1_UTF8STRING, "x", -1}});
  EXPECT_EQ(fold_name(der_of(multi.get())), "");
  EXPECT_EQ(match(ascii, multi), KeyMatch::kMaybe);
  EXPECT_EQ(fold_name(std::vector<std::uint8_t>{0x30, 0x05, 0x31}), "");  // not a Name
}

TEST(FindSubject, ReportsHowMuchMoreOfAPrefixItNeeds) {
  const test::TestPki pki;
  const auto certificates = openssl_read_all(pki.ca_pem());
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificates.at(0).get(), &der);
  ASSERT_GT(length, 0);
  const std::vector<std::uint8_t> whole(der, der + length);
  OPENSSL_free(der);
  const auto full = find_subject(whole);
  ASSERT_TRUE(full.subject.has_value());
  for (std::size_t size = 0;
       size < static_cast<std::size_t>(full.subject->data() - whole.data()) + full.subject->size();
       ++size) {
    const auto scan = find_subject(std::span(whole).first(size));
    ASSERT_FALSE(scan.subject.has_value()) << size;
    ASSERT_GT(scan.needed, size);
  }
  EXPECT_EQ(find_subject(std::vector<std::uint8_t>{0x02, 0x01, 0x00}).needed, 0U);  // no SEQUENCE
  EXPECT_EQ(find_subject(std::vector<std::uint8_t>{0x30, 0x80}).needed, 0U);  // indefinite (BER)
}

TEST(CaBundle, IndexesOnlyWholeCertificateBlocks) {
  const test::TestPki first;
  const test::TestPki second;
  const std::string& ca = first.ca_pem();
  std::string trusted = ca;
  trusted.replace(trusted.find("BEGIN CERTIFICATE"), 17, "BEGIN TRUSTED CERTIFICATE");
  trusted.replace(trusted.find("END CERTIFICATE"), 15, "END TRUSTED CERTIFICATE");
  const std::string pem =
      "text before\n"
      "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"       // not base64
      "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"  // not DER
      "-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----\n"  // not a certificate
      "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END X509 CRL-----\n"     // wrong END
      "  " +
      ca +  // an indented BEGIN is no BEGIN, for OpenSSL either
      trusted + "-----BEGIN CERTIFICATE-----\naGVsbG8=\n" +  // unterminated: ends at the next block
      second.ca_pem() + "-----BEGIN CERTIFICATE-----\n";
  const CaBundle bundle(pem);
  ASSERT_EQ(bundle.size(), 2U);
  EXPECT_TRUE(bundle.has_trust_settings(0));
  EXPECT_FALSE(bundle.has_trust_settings(1));
  const auto second_der = bundle.der(1);
  ASSERT_TRUE(second_der.has_value());
  const auto expected = openssl_read_all(second.ca_pem());
  const unsigned char* at = second_der->data();
  const X509Ptr decoded(d2i_X509(nullptr, &at, static_cast<long>(second_der->size())), &X509_free);
  ASSERT_NE(decoded, nullptr);
  EXPECT_EQ(X509_cmp(decoded.get(), expected.at(0).get()), 0);
  EXPECT_EQ(CaBundle("").size(), 0U);
  EXPECT_EQ(CaBundle("-----BEGIN CERTIFICATE-----").size(), 0U);
}

}  // namespace
}  // namespace qcp

#pragma once

// Committed test keys (PKCS#8 PEM), see test_keys.cpp.
namespace qcp::test {

extern const char* const kIssuerKeyPem;
extern const char* const kQuayInstanceKeyPem;

}  // namespace qcp::test

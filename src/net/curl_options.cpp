#include "net/curl_options.hpp"

#include <string>

#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

// libcurl's callbacks hand every header line (trailers after the last chunk included: libcurl
// also keeps each one for curl_easy_header(), so an endless stream would grow without bound) and
// every body chunk to the transfer, which bounds both while they arrive.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* context) {
  const std::size_t bytes = size * count;
  return static_cast<Transfer*>(context)->answer.add_header_line({data, bytes}) ? bytes : 0;
}

// A 200 answer to a streamed request goes to its sink as it arrives; anything else (an error
// Status, a redirect) is collected and bounded as any answer.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* context) {
  const std::size_t bytes = size * count;
  auto& transfer = *static_cast<Transfer*>(context);
  if (transfer.request.body_sink && transfer.answer.status() == 200) {
    if (!transfer.request.body_sink({data, bytes})) {
      transfer.aborted = true;
      return 0;
    }
    return bytes;
  }
  return transfer.answer.add_body({data, bytes}) ? bytes : 0;
}

// Called about once a second while the transfer runs, data or not.
int on_progress(void* context, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
  auto& transfer = *static_cast<Transfer*>(context);
  if (transfer.request.keep_going()) {
    return 0;
  }
  transfer.aborted = true;
  return 1;
}

void set_method_and_body(Setter& set, const HttpRequest& request) {
  if (request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS with its size: the body is sent as given, binary-safe, never as a form.
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_POSTFIELDS, request.body.c_str());
    if (request.method != "POST") {
      set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }
}

}  // namespace

bool append_headers(const HttpRequest& request, HeaderList& headers) {
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* extended = curl_slist_append(headers.get(), line.c_str());
    if (extended == nullptr) {
      return false;
    }
    static_cast<void>(headers.release());
    headers.reset(extended);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    // No "Expect: 100-continue" wait before a large body: the servers answer at once.
    curl_slist* extended = curl_slist_append(headers.get(), "Expect:");
    if (extended == nullptr) {
      return false;
    }
    static_cast<void>(headers.release());
    headers.reset(extended);
  }
  return true;
}

void set_transfer_options(Setter& set, const HttpRequest& request, curl_slist* headers,
                          char* error_buffer) {
  set(CURLOPT_URL, request.url.c_str());
  set_method_and_body(set, request);
  set(CURLOPT_PROTOCOLS_STR, "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer to report, never to follow
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
}

void set_trust_options(Setter& set, const HttpRequest& request, TlsContextSetup& tls_setup) {
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  // No CA file for libcurl: it would decode every certificate in it up front. The bundle's own
  // lookup serves the server's connection and an HTTPS proxy's (the callback runs for both); a
  // CA directory stays OpenSSL's hashed lookup. nullptr also drops any CA location compiled
  // into a system libcurl.
  set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
  set(CURLOPT_PROXY_CAINFO, static_cast<const char*>(nullptr));
  const char* ca_dir = request.trust.ca_dir.empty() ? nullptr : request.trust.ca_dir.c_str();
  set(CURLOPT_CAPATH, ca_dir);
  set(CURLOPT_PROXY_CAPATH, ca_dir);
  set(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  set(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSL_CTX_FUNCTION, &prepare_tls_context);
  set(CURLOPT_SSL_CTX_DATA, &tls_setup);
  if (!request.client_certificate_pem.empty()) {
    // Blobs are copied by libcurl; the request's strings may go after the call.
    curl_blob certificate{const_cast<char*>(request.client_certificate_pem.data()),
                          request.client_certificate_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(request.client_key_pem.data()), request.client_key_pem.size(),
                  CURL_BLOB_COPY};
    set(CURLOPT_SSLCERTTYPE, "PEM");
    set(CURLOPT_SSLCERT_BLOB, &certificate);
    set(CURLOPT_SSLKEYTYPE, "PEM");
    set(CURLOPT_SSLKEY_BLOB, &key);
  }
}

void set_identity_and_route(Setter& set, const HttpRequest& request) {
  if (!request.basic_user.empty()) {
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, request.basic_user.c_str());
    set(CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  // "" disables libcurl's own reading of *_proxy variables; the caller decided already.
  set(CURLOPT_PROXY, request.proxy.c_str());
  if (!request.no_proxy.empty()) {
    set(CURLOPT_NOPROXY, request.no_proxy.c_str());
  }
}

void set_answer_sinks(Setter& set, Transfer& transfer) {
  if (!transfer.request.body_sink) {
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(transfer.request.max_body_bytes));
  }
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_WRITEDATA, &transfer);
  set(CURLOPT_HEADERFUNCTION, &on_header);
  set(CURLOPT_HEADERDATA, &transfer);
  if (transfer.request.keep_going) {
    set(CURLOPT_XFERINFOFUNCTION, &on_progress);
    set(CURLOPT_XFERINFODATA, &transfer);
    set(CURLOPT_NOPROGRESS, 0L);
  }
}

}  // namespace qcp::net

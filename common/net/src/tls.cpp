#include "lifeboat/net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "lifeboat/net/openssl_ptr.hpp"

namespace lifeboat::net {

std::string takeOpensslReason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

namespace {

namespace asio = boost::asio;

// A missing or unreadable file gets the system's words rather than OpenSSL's.
std::optional<Error> checkReadable(const std::filesystem::path& file, const std::string& what) {
  std::FILE* opened = std::fopen(file.c_str(), "r");
  if (opened == nullptr) {
    return Error{"cannot read the " + what + " " + file.string() + ": " + std::strerror(errno),
                 "check that the file exists and that this program's user may read it"};
  }
  std::fclose(opened);
  return std::nullopt;
}

// Keys must not be encrypted: OpenSSL's default would ask on the terminal.
// `asked`, when given, points to a bool that records the attempt.
int refusePassphrase(char*, int, int, void* asked) {
  if (asked != nullptr) {
    *static_cast<bool*>(asked) = true;
  }
  return 0;
}

std::optional<Error> loadCertificateAndKey(SSL_CTX* context,
                                           const std::filesystem::path& certificateFile,
                                           const std::filesystem::path& keyFile) {
  const std::string certificate = certificateFile.string();
  const std::string key = keyFile.string();
  if (auto unreadable = checkReadable(certificateFile, "TLS certificate")) {
    return unreadable;
  }
  if (auto unreadable = checkReadable(keyFile, "TLS private key")) {
    return unreadable;
  }
  if (SSL_CTX_use_certificate_chain_file(context, certificate.c_str()) != 1) {
    return Error{"cannot load the TLS certificate " + certificate +
                     ": not a PEM certificate (OpenSSL: " + takeOpensslReason() + ")",
                 "the file must hold PEM certificates, its owner's own first"};
  }
  bool encrypted = false;
  OpenSslPtr<BIO, BIO_free> keyBio(BIO_new_file(key.c_str(), "r"));
  OpenSslPtr<EVP_PKEY, EVP_PKEY_free> privateKey(
      keyBio ? PEM_read_bio_PrivateKey(keyBio.get(), nullptr, refusePassphrase, &encrypted)
             : nullptr);
  if (!privateKey && encrypted) {
    ERR_clear_error();
    return Error{"cannot load the TLS private key " + key + ": it is encrypted with a passphrase",
                 "use an unencrypted key (openssl pkey -in KEY -out NEW_KEY), readable by "
                 "this program's user alone"};
  }
  if (!privateKey) {
    return Error{"cannot load the TLS private key " + key +
                     ": not a PEM private key (OpenSSL: " + takeOpensslReason() + ")",
                 "the file must hold an unencrypted PEM private key"};
  }
  X509* leaf = SSL_CTX_get0_certificate(context);
  if (leaf == nullptr || X509_check_private_key(leaf, privateKey.get()) != 1) {
    ERR_clear_error();
    return Error{
        "the TLS private key " + key + " does not belong to the certificate " + certificate,
        "give the key the certificate was issued for"};
  }
  if (SSL_CTX_use_PrivateKey(context, privateKey.get()) != 1) {
    return Error{"cannot use the TLS private key " + key + ": " + takeOpensslReason(), ""};
  }
  return std::nullopt;
}

std::optional<Error> loadClientCa(SSL_CTX* context, const TlsServerOptions& options) {
  const std::string ca = options.clientCa.string();
  if (auto unreadable = checkReadable(options.clientCa, "client CA file")) {
    return unreadable;
  }
  const std::string notPem =
      "the file must hold the PEM certificates of the CAs that issue the clients' certificates";
  if (SSL_CTX_load_verify_locations(context, ca.c_str(), nullptr) != 1) {
    return Error{"cannot load the client CA file " + ca +
                     ": not PEM certificates (OpenSSL: " + takeOpensslReason() + ")",
                 notPem};
  }
  // The CA names sent in the certificate request, so that a client holding
  // several certificates can pick the right one.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
  if (names == nullptr) {
    return Error{"cannot read CA names from the client CA file " + ca + ": " + takeOpensslReason(),
                 notPem};
  }
  SSL_CTX_set_client_CA_list(context, names);
  SSL_CTX_set_verify(
      context,
      SSL_VERIFY_PEER | (options.requireClientCertificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
      nullptr);
  return std::nullopt;
}

// A context for `method` that speaks TLS 1.3 and nothing older.
Result<std::unique_ptr<asio::ssl::context>> makeTls13Context(asio::ssl::context::method method) {
  std::unique_ptr<asio::ssl::context> context;
  try {
    context = std::make_unique<asio::ssl::context>(method);
  } catch (const std::exception& failure) {
    return Error{std::string("cannot set up TLS: ") + failure.what(), ""};
  }
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_3_VERSION) != 1) {
    return Error{"cannot restrict TLS to version 1.3: " + takeOpensslReason(),
                 "check that OpenSSL is version 1.1.1 or later"};
  }
  return context;
}

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> makeServerTlsContext(const TlsServerOptions& options) {
  if (options.requireClientCertificate && options.clientCa.empty()) {
    return Error{"TLS: requiring client certificates needs a client CA file",
                 "set the CA that issues the clients' certificates, or stop requiring them"};
  }
  Result<std::unique_ptr<asio::ssl::context>> made =
      makeTls13Context(asio::ssl::context::tls_server);
  if (!made) {
    return made.error();
  }
  std::unique_ptr<asio::ssl::context> context = std::move(*made);
  SSL_CTX* native = context->native_handle();
  // Every connection does a full handshake, so a client certificate is
  // checked each time and no resumption state needs managing.
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_default_passwd_cb(native, refusePassphrase);

  if (auto failed = loadCertificateAndKey(native, options.certificate, options.privateKey)) {
    return *failed;
  }
  if (!options.clientCa.empty()) {
    if (auto failed = loadClientCa(native, options)) {
      return *failed;
    }
  }
  return context;
}

std::string verifiedPeerCommonName(SSL* ssl) {
  X509* certificate = SSL_get1_peer_certificate(ssl);
  if (certificate == nullptr) {
    return {};
  }
  std::string name;
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index =
      subject != nullptr ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (SSL_get_verify_result(ssl) == X509_V_OK && index >= 0) {
    unsigned char* text = nullptr;
    const int length =
        ASN1_STRING_to_UTF8(&text, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
    if (length >= 0 && text != nullptr) {
      name.assign(reinterpret_cast<const char*>(text), static_cast<std::size_t>(length));
    }
    OPENSSL_free(text);
  }
  X509_free(certificate);
  return name;
}

}  // namespace lifeboat::net

namespace lifeboat::net {
namespace {

void freePin(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(pointer);
}

// The pin a connection checks, hung on the SSL object (which owns it) by
// prepareClientConnection(); when it has none, the context's, hung on the
// SSL_CTX by makeClientTlsContext() from TlsClientOptions::pinSha256.
int connectionPinIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freePin);
  return index;
}

int contextPinIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freePin);
  return index;
}

const std::string* pinFor(SSL* ssl) {
  if (ssl == nullptr) {
    return nullptr;
  }
  if (const auto* pin =
          static_cast<const std::string*>(SSL_get_ex_data(ssl, connectionPinIndex()))) {
    return pin;
  }
  return static_cast<const std::string*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextPinIndex()));
}

// OpenSSL's chain verification stays in charge; on top of it the leaf
// certificate (depth 0) must hash to the pinned value when one is set.
int verifyWithPin(int preverified, X509_STORE_CTX* store) {
  if (preverified != 1) {
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) {
    return 1;
  }
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const std::string* pin = pinFor(ssl);
  if (pin == nullptr || pin->empty()) {
    return 1;
  }
  if (certificateSha256(X509_STORE_CTX_get_current_cert(store)) != *pin) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

}  // namespace

Result<std::string> normalizePin(std::string_view pin) {
  std::string hex;
  for (char c : pin) {
    if (c == ':') {
      continue;
    }
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Error{"the certificate pin is not hexadecimal",
                   "give the SHA-256 of the coordinator's certificate, e.g. from "
                   "`openssl x509 -in CERT -noout -fingerprint -sha256`"};
    }
    hex.push_back(c);
  }
  if (hex.size() != 64) {
    return Error{
        "the certificate pin has " + std::to_string(hex.size() / 2) + " bytes; a SHA-256 has 32",
        "give the SHA-256 of the coordinator's certificate, e.g. from "
        "`openssl x509 -in CERT -noout -fingerprint -sha256`"};
  }
  return hex;
}

std::string certificateSha256(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (certificate == nullptr || X509_digest(certificate, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    text.push_back(kHex[digest[i] >> 4]);
    text.push_back(kHex[digest[i] & 0x0f]);
  }
  return text;
}

Result<std::unique_ptr<asio::ssl::context>> makeClientTlsContext(const TlsClientOptions& options) {
  if (options.ca.empty()) {
    return Error{"TLS: no CA file to check the server's certificate against",
                 "set the CA that issued the server's certificate"};
  }
  if (options.certificate.empty() != options.privateKey.empty()) {
    return Error{"TLS: a client certificate needs its key, and a key its certificate",
                 "set both the certificate and the key file, or neither"};
  }
  Result<std::unique_ptr<asio::ssl::context>> made =
      makeTls13Context(asio::ssl::context::tls_client);
  if (!made) {
    return made.error();
  }
  std::unique_ptr<asio::ssl::context> context = std::move(*made);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_default_passwd_cb(native, refusePassphrase);
  if (auto unreadable = checkReadable(options.ca, "CA file")) {
    return *unreadable;
  }
  if (SSL_CTX_load_verify_locations(native, options.ca.c_str(), nullptr) != 1) {
    return Error{"cannot load the CA file " + options.ca.string() +
                     ": not PEM certificates (OpenSSL: " + takeOpensslReason() + ")",
                 "the file must hold the PEM certificate of the CA that issued the server's"};
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, verifyWithPin);
  if (!options.certificate.empty()) {
    if (auto failed = loadCertificateAndKey(native, options.certificate, options.privateKey)) {
      return *failed;
    }
  }
  if (!options.pinSha256.empty()) {
    Result<std::string> pin = normalizePin(options.pinSha256);
    if (!pin) {
      return pin.error();
    }
    // Owned by the context from here (freePin runs when it is freed).
    auto* owned = new std::string(std::move(*pin));
    if (SSL_CTX_set_ex_data(native, contextPinIndex(), owned) != 1) {
      delete owned;
      return Error{"cannot set the certificate pin: " + takeOpensslReason(), ""};
    }
  }
  return context;
}

Result<bool> prepareClientConnection(SSL* ssl, std::string_view host, std::string_view pinSha256) {
  const std::string name(host);
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
  ERR_clear_error();
  if (address != nullptr) {
    ASN1_OCTET_STRING_free(address);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
      return Error{"cannot verify the server's address " + name + ": " + takeOpensslReason(), ""};
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1 || SSL_set1_host(ssl, name.c_str()) != 1) {
      return Error{"cannot verify the server's name " + name + ": " + takeOpensslReason(), ""};
    }
  }
  if (!pinSha256.empty()) {
    Result<std::string> pin = normalizePin(pinSha256);
    if (!pin) {
      return pin.error();
    }
    // Replaces a pin an earlier call set (ex_data does not free it).
    delete static_cast<std::string*>(SSL_get_ex_data(ssl, connectionPinIndex()));
    SSL_set_ex_data(ssl, connectionPinIndex(), nullptr);
    auto* owned = new std::string(std::move(*pin));
    if (SSL_set_ex_data(ssl, connectionPinIndex(), owned) != 1) {
      delete owned;
      return Error{"cannot set the certificate pin: " + takeOpensslReason(), ""};
    }
  }
  return true;
}

}  // namespace lifeboat::net

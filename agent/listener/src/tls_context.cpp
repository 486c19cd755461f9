#include "tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

namespace lifeboat::listener::detail {
namespace {

namespace asio = boost::asio;

// OpenSSL's reason for the last failure on this thread, then a clean queue.
std::string takeOpensslReason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// A missing or unreadable file gets the system's words rather than OpenSSL's.
std::optional<Error> checkReadable(const std::filesystem::path& file, const std::string& what) {
  std::FILE* opened = std::fopen(file.c_str(), "r");
  if (opened == nullptr) {
    return Error{"cannot read the " + what + " " + file.string() + ": " + std::strerror(errno),
                 "check that the file exists and that the agent may read it"};
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

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::optional<Error> loadCertificateAndKey(SSL_CTX* context, const TlsOptions& options) {
  const std::string certificate = options.certificate.string();
  const std::string key = options.privateKey.string();
  if (auto unreadable = checkReadable(options.certificate, "TLS certificate")) {
    return unreadable;
  }
  if (auto unreadable = checkReadable(options.privateKey, "TLS private key")) {
    return unreadable;
  }
  if (SSL_CTX_use_certificate_chain_file(context, certificate.c_str()) != 1) {
    return Error{"cannot load the TLS certificate " + certificate +
                     ": not a PEM certificate (OpenSSL: " + takeOpensslReason() + ")",
                 "the file must hold PEM certificates, the server's own first"};
  }
  bool encrypted = false;
  std::unique_ptr<BIO, BioFree> keyFile(BIO_new_file(key.c_str(), "r"));
  std::unique_ptr<EVP_PKEY, KeyFree> privateKey(
      keyFile ? PEM_read_bio_PrivateKey(keyFile.get(), nullptr, refusePassphrase, &encrypted)
              : nullptr);
  if (!privateKey && encrypted) {
    ERR_clear_error();
    return Error{"cannot load the TLS private key " + key + ": it is encrypted with a passphrase",
                 "give the agent an unencrypted key (openssl pkey -in KEY -out NEW_KEY), "
                 "readable by the agent alone"};
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

std::optional<Error> loadClientCa(SSL_CTX* context, const TlsOptions& options) {
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

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> makeTlsContext(const TlsOptions& options) {
  if (options.requireClientCertificate && options.clientCa.empty()) {
    return Error{"TLS: requiring client certificates needs a client CA file",
                 "set the CA that issues the clients' certificates, or stop requiring them"};
  }
  std::unique_ptr<asio::ssl::context> context;
  try {
    context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  } catch (const std::exception& failure) {
    return Error{std::string("cannot set up TLS: ") + failure.what(), ""};
  }
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    return Error{"cannot restrict TLS to version 1.3: " + takeOpensslReason(),
                 "check that OpenSSL is version 1.1.1 or later"};
  }
  // Every connection does a full handshake, so a client certificate is
  // checked each time and no resumption state needs managing.
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_default_passwd_cb(native, refusePassphrase);

  if (auto failed = loadCertificateAndKey(native, options)) {
    return *failed;
  }
  if (!options.clientCa.empty()) {
    if (auto failed = loadClientCa(native, options)) {
      return *failed;
    }
  }
  return context;
}

std::string verifiedClientCommonName(SSL* ssl) {
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

}  // namespace lifeboat::listener::detail

#include "lifeboat/net/certificates.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

#include "lifeboat/net/openssl_ptr.hpp"
#include "lifeboat/net/tls.hpp"

namespace lifeboat::net {
namespace {

using KeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using CertificatePtr = OpenSslPtr<X509, X509_free>;
using BioPtr = OpenSslPtr<BIO, BIO_free>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using ExtensionPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using NamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using NamePtr = OpenSslPtr<GENERAL_NAME, GENERAL_NAME_free>;
using OctetsPtr = OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

constexpr std::chrono::hours kDefaultBackdate{1};
constexpr std::chrono::hours kDefaultLeafValidity{825 * 24};
constexpr std::chrono::hours kCaValidity{3652 * 24};

Error opensslError(const std::string& what) {
  return Error{"cannot " + what + " (OpenSSL: " + takeOpensslReason() + ")", ""};
}

Result<KeyPtr> makeKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return opensslError("make a P-256 key");
  }
  return key;
}

std::string toPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

// PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted.
std::string toPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

BioPtr memoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// A 16-byte serial from the system's random source (RFC 5280 4.1.2.2 allows
// up to 20 octets): the top bits are fixed to 01 so that it is positive and
// always 16 bytes long, which leaves 126 random bits.
bool setRandomSerial(X509* certificate) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return false;
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BignumPtr number(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!number) {
    return false;
  }
  IntegerPtr serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  return serial && X509_set_serialNumber(certificate, serial.get()) == 1;
}

bool setValidity(X509* certificate, std::chrono::system_clock::time_point notBefore,
                 std::chrono::system_clock::time_point notAfter) {
  const std::time_t from = std::chrono::system_clock::to_time_t(notBefore);
  const std::time_t until = std::chrono::system_clock::to_time_t(notAfter);
  return ASN1_TIME_set(X509_getm_notBefore(certificate), from) != nullptr &&
         ASN1_TIME_set(X509_getm_notAfter(certificate), until) != nullptr;
}

bool setCommonName(X509_NAME* name, const std::string& commonName) {
  return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(commonName.c_str()),
                                    static_cast<int>(commonName.size()), -1, 0) == 1;
}

// An extension in OpenSSL's configuration syntax; `context` names the
// certificate and its issuer, which subjectKeyIdentifier and
// authorityKeyIdentifier read.
bool addExtension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, context, nid, value));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// Host names as in RFC 1123: dot-separated labels of 1-63 letters, digits
// and '-', not starting or ending with '-', the last not all digits; an
// optional "*." wildcard first.
bool isHostName(const std::string& name) {
  std::string_view rest = name;
  if (rest.starts_with("*.")) {
    rest.remove_prefix(2);
  }
  if (rest.empty() || rest.size() > 253) {
    return false;
  }
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool allowed =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!allowed) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      // An all-digit last label is a mistyped IP address ("300.1.1.1"), not
      // a name (RFC 3696 section 2).
      return label.find_first_not_of("0123456789") != std::string_view::npos;
    }
    rest.remove_prefix(dot + 1);
  }
}

// subjectAltName built from GENERAL_NAMEs rather than configuration text, so
// that no name can smuggle in another entry.
Result<bool> addAlternativeNames(X509* certificate, const std::vector<std::string>& names) {
  NamesPtr list(sk_GENERAL_NAME_new_null());
  if (!list) {
    return opensslError("list the subject alternative names");
  }
  for (const std::string& entry : names) {
    NamePtr name(GENERAL_NAME_new());
    if (!name) {
      return opensslError("add a subject alternative name");
    }
    if (Result<bool> valid = checkAlternativeName(entry); !valid) {
      return valid.error();
    }
    OctetsPtr address(a2i_IPADDRESS(entry.c_str()));
    ERR_clear_error();
    if (address) {
      GENERAL_NAME_set0_value(name.get(), GEN_IPADD, address.release());
    } else {
      ASN1_IA5STRING* text = ASN1_IA5STRING_new();
      if (text == nullptr ||
          ASN1_STRING_set(text, entry.data(), static_cast<int>(entry.size())) != 1) {
        ASN1_IA5STRING_free(text);
        return opensslError("add the subject alternative name " + entry);
      }
      GENERAL_NAME_set0_value(name.get(), GEN_DNS, text);
    }
    if (sk_GENERAL_NAME_push(list.get(), name.get()) == 0) {
      return opensslError("add a subject alternative name");
    }
    name.release();
  }
  if (X509_add1_ext_i2d(certificate, NID_subject_alt_name, list.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return opensslError("add the subject alternative names");
  }
  return true;
}

struct Extensions {
  const char* basicConstraints;
  const char* keyUsage;
  const char* extendedKeyUsage;  // nullptr: none
};

// Fills in and signs `certificate` for `subjectKey`, issued by `issuer`
// (nullptr: self-signed) whose key is `issuerKey`.
Result<bool> completeAndSign(X509* certificate, EVP_PKEY* subjectKey, const std::string& commonName,
                             X509* issuer, EVP_PKEY* issuerKey, const Extensions& extensions,
                             std::chrono::system_clock::time_point notBefore,
                             std::chrono::system_clock::time_point notAfter) {
  if (X509_set_version(certificate, X509_VERSION_3) != 1 || !setRandomSerial(certificate) ||
      !setValidity(certificate, notBefore, notAfter) ||
      X509_set_pubkey(certificate, subjectKey) != 1 ||
      !setCommonName(X509_get_subject_name(certificate), commonName)) {
    return opensslError("fill in the certificate for " + commonName);
  }
  X509* signer = issuer != nullptr ? issuer : certificate;
  if (X509_set_issuer_name(certificate, X509_get_subject_name(signer)) != 1) {
    return opensslError("set the issuer of the certificate for " + commonName);
  }
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, signer, certificate, nullptr, nullptr, 0);
  // The subject key identifier first: a self-signed certificate's authority
  // key identifier is read from it.
  if (!addExtension(certificate, &context, NID_basic_constraints, extensions.basicConstraints) ||
      !addExtension(certificate, &context, NID_key_usage, extensions.keyUsage) ||
      (extensions.extendedKeyUsage != nullptr &&
       !addExtension(certificate, &context, NID_ext_key_usage, extensions.extendedKeyUsage)) ||
      !addExtension(certificate, &context, NID_subject_key_identifier, "hash") ||
      !addExtension(certificate, &context, NID_authority_key_identifier, "keyid:always")) {
    return opensslError("add the extensions of the certificate for " + commonName);
  }
  if (X509_sign(certificate, issuerKey, EVP_sha256()) == 0) {
    return opensslError("sign the certificate for " + commonName);
  }
  return true;
}

struct LoadedCa {
  CertificatePtr certificate;
  KeyPtr key;
};

Result<LoadedCa> loadCa(const PemPair& ca) {
  LoadedCa loaded;
  BioPtr certificateBio = memoryBio(ca.certificate);
  loaded.certificate.reset(certificateBio
                               ? PEM_read_bio_X509(certificateBio.get(), nullptr, nullptr, nullptr)
                               : nullptr);
  if (!loaded.certificate) {
    return Error{
        "the CA certificate is not a PEM certificate (OpenSSL: " + takeOpensslReason() + ")",
        "give the CA's certificate, as written by makeCertificateAuthority"};
  }
  BioPtr keyBio = memoryBio(ca.privateKey);
  // An empty passphrase callback result: an encrypted key fails instead of
  // prompting on the terminal.
  loaded.key.reset(
      keyBio ? PEM_read_bio_PrivateKey(
                   keyBio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
             : nullptr);
  if (!loaded.key) {
    return Error{
        "the CA key is not an unencrypted PEM private key (OpenSSL: " + takeOpensslReason() + ")",
        "give the CA's private key, without a passphrase"};
  }
  if (X509_check_private_key(loaded.certificate.get(), loaded.key.get()) != 1) {
    ERR_clear_error();
    return Error{"the CA key does not belong to the CA certificate",
                 "give the key the CA certificate was made with"};
  }
  if (X509_check_ca(loaded.certificate.get()) == 0) {
    return Error{"the CA certificate is not a CA (no basicConstraints CA:TRUE)",
                 "give the certificate of the CA, not one it issued"};
  }
  return loaded;
}

// Creates `path` with `mode` holding `content`: a temporary file beside it,
// written, flushed to disk and renamed over it, so that a reader sees the
// old file or the new one, never a part.
std::optional<Error> writeAtomically(const std::filesystem::path& path, const std::string& content,
                                     mode_t mode) {
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  std::string temporary = (folder / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    return Error{"cannot write " + path.string() + ": " + std::strerror(errno),
                 "check that the folder " + folder.string() + " exists and is writable"};
  }
  auto fail = [&](const char* stage) {
    const int saved = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    return Error{"cannot write " + path.string() + " (" + stage + "): " + std::strerror(saved),
                 "check the free space and permissions of " + folder.string()};
  };
  if (::fchmod(fd, mode) != 0) {
    return fail("chmod");
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail("write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return fail("fsync");
  }
  if (::close(fd) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return Error{"cannot write " + path.string() + ": " + std::strerror(saved), ""};
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return Error{"cannot write " + path.string() + " (rename): " + std::strerror(saved),
                 "check the permissions of " + folder.string()};
  }
  return std::nullopt;
}

}  // namespace

Result<bool> checkAlternativeName(const std::string& name) {
  OctetsPtr address(a2i_IPADDRESS(name.c_str()));
  ERR_clear_error();
  if (address || isHostName(name)) {
    return true;
  }
  return Error{"'" + name + "' is neither a host name nor an IP address",
               "give names like coordinator.example.org or addresses like 127.0.0.1, ::1"};
}

Result<PemPair> makeCertificateAuthority(const std::string& commonName) {
  if (commonName.empty()) {
    return Error{"a CA needs a name", "give the CA a common name"};
  }
  Result<KeyPtr> key = makeKey();
  if (!key) {
    return key.error();
  }
  CertificatePtr certificate(X509_new());
  if (!certificate) {
    return opensslError("make a certificate");
  }
  const auto now = std::chrono::system_clock::now();
  const Extensions extensions{"critical,CA:TRUE", "critical,keyCertSign,cRLSign", nullptr};
  if (Result<bool> signed_ =
          completeAndSign(certificate.get(), key->get(), commonName, nullptr, key->get(),
                          extensions, now - kDefaultBackdate, now + kCaValidity);
      !signed_) {
    return signed_.error();
  }
  PemPair pem{toPem(certificate.get()), toPem(key->get())};
  if (pem.certificate.empty() || pem.privateKey.empty()) {
    return opensslError("write the CA " + commonName + " as PEM");
  }
  return pem;
}

Result<PemPair> issueCertificate(const PemPair& ca, const CertificateRequest& request) {
  if (request.commonName.empty()) {
    return Error{"a certificate needs a common name",
                 "name the agent (client) or the server the certificate is for"};
  }
  if (request.server && request.alternativeNames.empty()) {
    return Error{"the server certificate for " + request.commonName +
                     " names no host: clients verify the host they connect to against these names",
                 "give the host names and IP addresses clients use to reach it"};
  }
  const auto now = std::chrono::system_clock::now();
  const auto notBefore = request.notBefore != std::chrono::system_clock::time_point{}
                             ? request.notBefore
                             : now - kDefaultBackdate;
  const auto notAfter = request.notAfter != std::chrono::system_clock::time_point{}
                            ? request.notAfter
                            : now + kDefaultLeafValidity;
  if (notAfter <= notBefore) {
    return Error{"the certificate for " + request.commonName + " would end before it starts",
                 "give a notAfter later than notBefore"};
  }
  Result<LoadedCa> issuer = loadCa(ca);
  if (!issuer) {
    return issuer.error();
  }
  Result<KeyPtr> key = makeKey();
  if (!key) {
    return key.error();
  }
  CertificatePtr certificate(X509_new());
  if (!certificate) {
    return opensslError("make a certificate");
  }
  if (!request.alternativeNames.empty()) {
    if (Result<bool> added = addAlternativeNames(certificate.get(), request.alternativeNames);
        !added) {
      return added.error();
    }
  }
  // ECDHE key exchange: an ECDSA key only signs.
  const Extensions extensions{"critical,CA:FALSE", "critical,digitalSignature",
                              request.server ? "serverAuth" : "clientAuth"};
  if (Result<bool> signed_ = completeAndSign(certificate.get(), key->get(), request.commonName,
                                             issuer->certificate.get(), issuer->key.get(),
                                             extensions, notBefore, notAfter);
      !signed_) {
    return signed_.error();
  }
  PemPair pem{toPem(certificate.get()), toPem(key->get())};
  if (pem.certificate.empty() || pem.privateKey.empty()) {
    return opensslError("write the certificate for " + request.commonName + " as PEM");
  }
  return pem;
}

Result<bool> writePemPair(const PemPair& pem, const std::filesystem::path& certificate,
                          const std::filesystem::path& privateKey) {
  // The key first: a certificate on disk without its key would look usable.
  if (auto failed = writeAtomically(privateKey, pem.privateKey, 0600)) {
    return *failed;
  }
  if (auto failed = writeAtomically(certificate, pem.certificate, 0644)) {
    return *failed;
  }
  return true;
}

}  // namespace lifeboat::net

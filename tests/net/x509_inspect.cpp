#include "x509_inspect.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

namespace lifeboat::net::testing {

CertificatePtr parseCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertificatePtr certificate(bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)
                                            : nullptr);
  BIO_free(bio);
  return certificate;
}

bool verifiesAgainst(X509* leaf, X509* ca, int purpose, std::string* reason) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  bool ok = false;
  if (store != nullptr && context != nullptr && X509_STORE_add_cert(store, ca) == 1 &&
      X509_STORE_CTX_init(context, store, leaf, nullptr) == 1 &&
      (purpose == 0 || X509_STORE_CTX_set_purpose(context, purpose) == 1)) {
    ok = X509_verify_cert(context) == 1;
    if (!ok && reason != nullptr) {
      *reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(context));
    }
  }
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return ok;
}

std::string commonName(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) {
    return {};
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

namespace {
std::chrono::system_clock::time_point toTimePoint(const ASN1_TIME* time) {
  struct tm broken {};
  ASN1_TIME_to_tm(time, &broken);
  return std::chrono::system_clock::from_time_t(timegm(&broken));
}
}  // namespace

std::chrono::system_clock::time_point notBefore(X509* certificate) {
  return toTimePoint(X509_get0_notBefore(certificate));
}

std::chrono::system_clock::time_point notAfter(X509* certificate) {
  return toTimePoint(X509_get0_notAfter(certificate));
}

int serialBytes(X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  const int bytes = number != nullptr ? BN_num_bytes(number) : 0;
  BN_free(number);
  return bytes;
}

std::string serialHex(X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  char* hex = number != nullptr ? BN_bn2hex(number) : nullptr;
  std::string text = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(number);
  return text;
}

}  // namespace lifeboat::net::testing

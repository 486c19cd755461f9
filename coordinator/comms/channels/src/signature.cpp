// The generic webhook's signature: HMAC-SHA256 with OpenSSL's one-shot HMAC().

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "lifeboat/comms/channels.hpp"

namespace lifeboat::comms {

std::string webhookSignature(const std::string& key, const std::string& timestamp,
                             const std::string& body) {
  const std::string signedText = timestamp + "." + body;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // HMAC() fails only when memory runs out or SHA-256 is unavailable, which
  // OpenSSL's default provider always offers; an empty value then lets the
  // receiver refuse the request rather than accept an unsigned one.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(signedText.data()), signedText.size(),
           digest.data(), &length) == nullptr) {
    return "sha256=";
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string signature = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    signature += kHex[digest[i] >> 4];
    signature += kHex[digest[i] & 0x0F];
  }
  return signature;
}

}  // namespace lifeboat::comms

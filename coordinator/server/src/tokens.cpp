#include "lifeboat/coordinator/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

namespace lifeboat::coordinator {
namespace {

std::string sha256Binary(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string hexToBinary(std::string_view hex) {
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

}  // namespace

std::string sha256Hex(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : sha256Binary(text)) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

Result<std::string> makeToken() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Error{"cannot make a token: OpenSSL's random generator failed",
                 "check that the system's random source (getrandom, /dev/urandom) works"};
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token = "lbt_";
  unsigned int buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      token.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    token.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

TokenTable::TokenTable(std::vector<TokenGrant> grants) : grants_(std::move(grants)) {
  for (const TokenGrant& grant : grants_) {
    digests_.push_back(hexToBinary(grant.sha256));
  }
}

std::optional<TokenGrant> TokenTable::find(std::string_view token) const {
  if (token.empty()) {
    return std::nullopt;
  }
  const std::string presented = sha256Binary(token);
  std::optional<std::size_t> match;
  for (std::size_t i = 0; i < digests_.size(); ++i) {
    if (digests_[i].size() == presented.size() &&
        CRYPTO_memcmp(digests_[i].data(), presented.data(), presented.size()) == 0) {
      match = i;
    }
  }
  if (!match) {
    return std::nullopt;
  }
  return grants_[*match];
}

}  // namespace lifeboat::coordinator

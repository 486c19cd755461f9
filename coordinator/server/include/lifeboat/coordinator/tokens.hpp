#pragma once
// Bearer tokens for people (docs/coordinator.md, "Access for people"). The
// config holds only each token's SHA-256; a presented token is hashed and
// compared with every grant in constant time, so neither the answer's timing
// nor the logs tell anything about a token.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/result.hpp"
#include "lifeboat/coordinator/server_config.hpp"

namespace lifeboat::coordinator {

// Lower-case hex SHA-256 of `text`.
std::string sha256Hex(std::string_view text);

// A new random token: "lbt_" and 43 base64url characters (256 bits from
// OpenSSL's generator). An Error when the generator fails.
Result<std::string> makeToken();

class TokenTable {
 public:
  explicit TokenTable(std::vector<TokenGrant> grants);
  // The grant whose sha256 is the token's; nullopt for an unknown or empty
  // token. Compares against every grant (no early exit).
  std::optional<TokenGrant> find(std::string_view token) const;

 private:
  std::vector<TokenGrant> grants_;
  std::vector<std::string> digests_;  // binary SHA-256, index-aligned with grants_
};

}  // namespace lifeboat::coordinator

#pragma once
// One libpq connection with errors as values. Used by the plugin and by the
// canary writer; single-threaded like libpq's PGconn itself.
//
// Contracts:
//   - the password is handed to libpq as the `password` keyword, never
//     spliced into a connection string, and never appears in an Error;
//   - every error names the server as host:port from the dsn (serverLabel);
//   - every query has a client-side deadline: a server that stops answering
//     (SIGSTOP, a dead network) fails the query instead of hanging, and the
//     connection is then broken (ok() is false).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/result.hpp"

struct pg_conn;

namespace lifeboat::postgres {

using Milliseconds = std::chrono::milliseconds;

// "host:port" of a libpq dsn, for messages: host (or hostaddr) and port from
// the dsn, libpq's defaults otherwise ("local" for a unix socket, 5432).
// Never includes anything else of the dsn (a password in it stays out).
std::string serverLabel(std::string_view dsn);

// The keywords of a dsn that libpq understands, as parsed by libpq; an Error
// when the dsn does not parse (the message does not quote the dsn).
Result<std::vector<std::pair<std::string, std::string>>> parseDsn(std::string_view dsn);

struct ConnectOptions {
  std::string dsn;       // libpq connection string, without the password
  std::string password;  // empty: none (libpq may still use PGPASSWORD, ~/.pgpass)
  Milliseconds connectTimeout{2000};
  std::string applicationName = "lifeboat";
};

// Rows of a text-format result; a NULL is std::nullopt.
using Row = std::vector<std::optional<std::string>>;
struct Rows {
  std::vector<Row> rows;
  // The first column of the first row, when there is one and it is not NULL.
  std::optional<std::string> scalar() const;
};

class Connection {
 public:
  // Connects, or returns an Error naming the server with libpq's reason.
  static Result<Connection> open(const ConnectOptions& options);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one statement (with $1.. parameters as text) and waits at most
  // `timeout` for its result. An Error says what failed on which server,
  // with the server's message and SQLSTATE.
  Result<Rows> query(std::string_view sql, const std::vector<std::string>& parameters = {},
                     Milliseconds timeout = std::chrono::seconds(30));

  // False after a broken connection or a query that timed out.
  bool ok() const;
  // host:port of the dsn, for messages.
  const std::string& label() const { return label_; }
  // SQLSTATE of the last failed query ("" when none or unknown).
  const std::string& lastSqlState() const { return lastSqlState_; }

 private:
  Connection(pg_conn* connection, std::string label);
  void close();

  pg_conn* connection_ = nullptr;
  std::string label_;
  std::string lastSqlState_;
};

}  // namespace lifeboat::postgres

#include "connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace lifeboat::postgres {
namespace {

using Clock = std::chrono::steady_clock;

// libpq messages end in a newline and may span lines; one line reads better.
std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

const char* kConnectHint =
    "check that the server runs and listens on that address and port, the dsn, pg_hba.conf "
    "and the password";

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parseDsn(std::string_view dsn) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(dsn).c_str(), &message);
  if (options == nullptr) {
    // libpq's parse message quotes at most a keyword, never a value.
    std::string reason = message != nullptr ? oneLine(message) : "out of memory";
    PQfreemem(message);
    return Error{"the dsn is not a valid libpq connection string: " + reason,
                 "write it as key=value pairs, e.g. \"host=10.0.0.5 port=5432 user=postgres "
                 "dbname=postgres\""};
  }
  std::vector<std::pair<std::string, std::string>> keywords;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) {
      keywords.emplace_back(option->keyword, option->val);
    }
  }
  PQconninfoFree(options);
  return keywords;
}

std::string serverLabel(std::string_view dsn) {
  std::string host;
  std::string hostAddress;
  std::string port;
  auto keywords = parseDsn(dsn);
  if (keywords) {
    for (const auto& [key, value] : *keywords) {
      if (key == "host") {
        host = value;
      } else if (key == "hostaddr") {
        hostAddress = value;
      } else if (key == "port") {
        port = value;
      }
    }
  }
  std::string where = !host.empty() ? host : hostAddress;
  if (where.empty() || where.front() == '/') {
    where = "local";
  }
  return where + ":" + (port.empty() ? "5432" : port);
}

std::optional<std::string> Rows::scalar() const {
  if (rows.empty() || rows.front().empty()) {
    return std::nullopt;
  }
  return rows.front().front();
}

Result<Connection> Connection::open(const ConnectOptions& options) {
  const std::string label = serverLabel(options.dsn);
  auto parsed = parseDsn(options.dsn);
  if (!parsed) {
    return parsed.error();
  }
  // libpq counts connect_timeout in whole seconds (and treats 1 as 2).
  const auto seconds = std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                                  options.connectTimeout + Milliseconds(999))
                                                  .count());
  const std::string timeout = std::to_string(seconds);
  std::vector<const char*> keys{"dbname", "connect_timeout", "fallback_application_name"};
  std::vector<const char*> values{options.dsn.c_str(), timeout.c_str(),
                                  options.applicationName.c_str()};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* connection = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (connection == nullptr) {
    return Error{"cannot connect to PostgreSQL at " + label + ": out of memory", ""};
  }
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string reason = oneLine(PQerrorMessage(connection));
    PQfinish(connection);
    return Error{"cannot connect to PostgreSQL at " + label + ": " + reason, kConnectHint};
  }
  return Connection(connection, label);
}

Connection::Connection(pg_conn* connection, std::string label)
    : connection_(connection), label_(std::move(label)) {}

Connection::Connection(Connection&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)),
      label_(std::move(other.label_)),
      lastSqlState_(std::move(other.lastSqlState_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    connection_ = std::exchange(other.connection_, nullptr);
    label_ = std::move(other.label_);
    lastSqlState_ = std::move(other.lastSqlState_);
  }
  return *this;
}

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (connection_ != nullptr) {
    PQfinish(connection_);
    connection_ = nullptr;
  }
}

bool Connection::ok() const {
  return connection_ != nullptr && PQstatus(connection_) == CONNECTION_OK;
}

Result<Rows> Connection::query(std::string_view sql, const std::vector<std::string>& parameters,
                               Milliseconds timeout) {
  lastSqlState_.clear();
  if (!ok()) {
    return Error{"the connection to " + label_ + " is broken", kConnectHint};
  }
  std::vector<const char*> values;
  for (const std::string& parameter : parameters) {
    values.push_back(parameter.c_str());
  }
  const std::string statement(sql);
  if (PQsendQueryParams(connection_, statement.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) != 1) {
    return Error{"cannot send a query to " + label_ + ": " + oneLine(PQerrorMessage(connection_)),
                 kConnectHint};
  }
  // Wait for the whole result with a deadline; libpq's own PQexec would wait
  // forever for a server that stopped answering.
  const auto deadline = Clock::now() + timeout;
  while (PQisBusy(connection_) == 1) {
    const auto left = std::chrono::duration_cast<Milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      close();
      return Error{
          "no answer from " + label_ + " within " + std::to_string(timeout.count()) + " ms",
          "the server may be overloaded, stopped or cut off; check it and the network"};
    }
    pollfd descriptor{PQsocket(connection_), POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) {
      close();
      return Error{"cannot wait for an answer from " + label_, kConnectHint};
    }
    if (PQconsumeInput(connection_) != 1) {
      std::string reason = oneLine(PQerrorMessage(connection_));
      close();
      return Error{"lost the connection to " + label_ + ": " + reason, kConnectHint};
    }
  }
  Rows rows;
  std::optional<Error> failure;
  while (PGresult* result = PQgetResult(connection_)) {
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
      for (int row = 0; row < PQntuples(result); ++row) {
        Row values;
        for (int column = 0; column < PQnfields(result); ++column) {
          if (PQgetisnull(result, row, column) == 1) {
            values.emplace_back(std::nullopt);
          } else {
            values.emplace_back(PQgetvalue(result, row, column));
          }
        }
        rows.rows.push_back(std::move(values));
      }
    } else if (status != PGRES_COMMAND_OK && !failure) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      lastSqlState_ = state != nullptr ? state : "";
      failure = Error{label_ + " refused a query: " + oneLine(PQresultErrorMessage(result)) +
                          (lastSqlState_.empty() ? "" : " (SQLSTATE " + lastSqlState_ + ")"),
                      ""};
    }
    PQclear(result);
  }
  if (failure) {
    if (PQstatus(connection_) != CONNECTION_OK) {
      failure->hint = kConnectHint;
    }
    return *failure;
  }
  return rows;
}

}  // namespace lifeboat::postgres

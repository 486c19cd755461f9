#include "write_client.hpp"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

namespace lifeboat::failover_test {
namespace {

struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using QueryResult = std::unique_ptr<PGresult, ResultClearer>;

Connection connect(const std::string& dsn) {
  Connection connection(PQconnectdb((dsn + " connect_timeout=1").c_str()));
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    return nullptr;
  }
  return connection;
}

}  // namespace

WriteClient::WriteClient(std::string dsn, std::chrono::milliseconds pause)
    : dsn_(std::move(dsn)), pause_(pause) {
  Connection connection = connect(dsn_);
  if (!connection) {
    throw std::runtime_error("the write client cannot connect to " + dsn_);
  }
  QueryResult created(PQexec(connection.get(),
                             "CREATE TABLE IF NOT EXISTS client_writes "
                             "(number bigint PRIMARY KEY, sent_at timestamptz NOT NULL)"));
  if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
    throw std::runtime_error(std::string("cannot create client_writes: ") +
                             PQerrorMessage(connection.get()));
  }
  thread_ = std::thread([this] { loop(); });
}

WriteClient::~WriteClient() {
  stop();
}

void WriteClient::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

void WriteClient::loop() {
  Connection connection;
  std::int64_t next = 1;
  while (!stopping_) {
    if (!connection) {
      connection = connect(dsn_);
      if (!connection) {
        ++failures_;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
    }
    const std::string number = std::to_string(next);
    const char* values[] = {number.c_str()};
    QueryResult inserted(PQexecParams(
        connection.get(), "INSERT INTO client_writes VALUES ($1::bigint, clock_timestamp())", 1,
        nullptr, values, nullptr, nullptr, 0));
    const SystemTime now = std::chrono::system_clock::now();
    if (PQresultStatus(inserted.get()) == PGRES_COMMAND_OK) {
      {
        std::lock_guard lock(mutex_);
        acknowledged_.push_back({next, now});
      }
      ++next;
      std::this_thread::sleep_for(pause_);
    } else {
      // A write that failed may or may not have committed: skip its number so
      // that every number stands for one attempt.
      ++next;
      ++failures_;
      connection.reset();
    }
  }
}

std::vector<Acknowledged> WriteClient::acknowledged() const {
  std::lock_guard lock(mutex_);
  return acknowledged_;
}

std::optional<Acknowledged> WriteClient::firstAfter(SystemTime time) const {
  std::lock_guard lock(mutex_);
  for (const Acknowledged& write : acknowledged_) {
    if (write.at > time) {
      return write;
    }
  }
  return std::nullopt;
}

std::optional<Acknowledged> WriteClient::lastBefore(SystemTime time) const {
  std::lock_guard lock(mutex_);
  std::optional<Acknowledged> last;
  for (const Acknowledged& write : acknowledged_) {
    if (write.at < time) {
      last = write;
    }
  }
  return last;
}

bool WriteClient::waitForWriteAfter(SystemTime time, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (firstAfter(time)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<std::int64_t> newestSurvivingWrite(const std::string& dsn, std::int64_t upTo) {
  Connection connection = connect(dsn);
  if (!connection) {
    return std::nullopt;
  }
  const std::string limit = std::to_string(upTo);
  const char* values[] = {limit.c_str()};
  QueryResult result(PQexecParams(
      connection.get(), "SELECT max(number) FROM client_writes WHERE number <= $1::bigint", 1,
      nullptr, values, nullptr, nullptr, 0));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1 ||
      PQgetisnull(result.get(), 0, 0)) {
    return std::nullopt;
  }
  return std::stoll(PQgetvalue(result.get(), 0, 0));
}

}  // namespace lifeboat::failover_test

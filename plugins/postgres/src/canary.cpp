#include "canary.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "timestamps.hpp"

namespace lifeboat::postgres {
namespace {

namespace json = boost::json;

constexpr const char* kCreateSchema = "CREATE SCHEMA IF NOT EXISTS lifeboat";
constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS lifeboat.canary ("
    "id bigserial PRIMARY KEY, "
    "written_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "origin text NOT NULL, "
    "writer text NOT NULL)";

}  // namespace

Result<bool> canaryTableExists(Connection& connection) {
  auto rows = connection.query("SELECT to_regclass('lifeboat.canary') IS NOT NULL");
  if (!rows) {
    return rows.error();
  }
  return rows->scalar() == "t";
}

std::optional<Error> ensureCanaryTable(Connection& connection) {
  // Two sessions creating the same table at once can collide on the catalog
  // (unique violation) even with IF NOT EXISTS; the loser tries once more.
  std::optional<Error> last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto exists = canaryTableExists(connection);
    if (!exists) {
      return exists.error();
    }
    if (*exists) {
      return std::nullopt;
    }
    auto schema = connection.query(kCreateSchema);
    auto table = schema ? connection.query(kCreateTable) : schema;
    if (table) {
      return std::nullopt;
    }
    last = Error{"cannot create the canary table lifeboat.canary on " + connection.label() + ": " +
                     table.error().message,
                 "the user needs CREATE on the database; a standby or a read-only server "
                 "cannot take it"};
    if (!connection.ok()) {
      break;
    }
  }
  return last;
}

Result<CanaryRow> insertCanary(Connection& connection, const std::string& writer,
                               Milliseconds timeout) {
  const std::string sql = std::string("INSERT INTO lifeboat.canary (origin, writer) VALUES (") +
                          kOriginSql + ", $1) RETURNING id, " + sqlTimestampText("written_at") +
                          ", origin";
  auto rows = connection.query(sql, {writer}, timeout);
  if (!rows) {
    return rows.error();
  }
  if (rows->rows.size() != 1 || rows->rows[0].size() != 3 || !rows->rows[0][0] ||
      !rows->rows[0][1] || !rows->rows[0][2]) {
    return Error{"unexpected answer to the canary insert on " + connection.label(), ""};
  }
  CanaryRow row;
  row.id = std::stoll(*rows->rows[0][0]);
  row.writtenAt = *rows->rows[0][1];
  row.origin = *rows->rows[0][2];
  return row;
}

Result<CanaryState> readCanaryState(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{"cannot read the canary state file " + path.string(),
                 "check the path: it is the --state file of lifeboat-pg-canary"};
  }
  std::stringstream text;
  text << in.rdbuf();
  const Error malformed{"the canary state file " + path.string() + " is not a canary state",
                        "it must be the --state file written by lifeboat-pg-canary"};
  boost::system::error_code code;
  json::value value = json::parse(text.str(), code);
  if (code || !value.is_object()) {
    return malformed;
  }
  const json::object& object = value.get_object();
  CanaryState state;
  if (const auto* writer = object.if_contains("writer"); writer != nullptr && writer->is_string()) {
    state.writer = std::string(writer->get_string());
  }
  if (const auto* interval = object.if_contains("interval_ms");
      interval != nullptr && interval->is_int64()) {
    state.intervalMs = interval->get_int64();
  }
  const auto* origins = object.if_contains("origins");
  if (origins == nullptr || !origins->is_object()) {
    return malformed;
  }
  for (const auto& [name, entry] : origins->get_object()) {
    const json::object* fields = entry.if_object();
    if (fields == nullptr) {
      return malformed;
    }
    const auto* id = fields->if_contains("id");
    const auto* writtenAt = fields->if_contains("written_at");
    const auto* acknowledgedAt = fields->if_contains("acknowledged_at");
    if (id == nullptr || !id->is_int64() || writtenAt == nullptr || !writtenAt->is_string() ||
        !parseTimestamp(writtenAt->get_string())) {
      return malformed;
    }
    AcknowledgedCanary canary;
    canary.id = id->get_int64();
    canary.writtenAt = std::string(writtenAt->get_string());
    if (acknowledgedAt != nullptr && acknowledgedAt->is_string()) {
      canary.acknowledgedAt = std::string(acknowledgedAt->get_string());
    }
    state.origins.emplace(std::string(name), std::move(canary));
  }
  return state;
}

std::optional<Error> writeCanaryState(const std::filesystem::path& path, const CanaryState& state) {
  json::object origins;
  for (const auto& [name, canary] : state.origins) {
    origins[name] = json::object{{"id", canary.id},
                                 {"written_at", canary.writtenAt},
                                 {"acknowledged_at", canary.acknowledgedAt}};
  }
  const json::object document{
      {"writer", state.writer}, {"interval_ms", state.intervalMs}, {"origins", origins}};
  const std::filesystem::path temporary =
      path.string() + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json::serialize(document) << '\n';
    if (!out.flush()) {
      std::remove(temporary.c_str());
      return Error{"cannot write " + temporary.string(), "check free space and permissions"};
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Error{"cannot replace " + path.string(), "check permissions of its directory"};
  }
  return std::nullopt;
}

}  // namespace lifeboat::postgres

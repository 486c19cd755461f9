#pragma once
// The store's schema and its migrations (docs/coordinator.md, "Store").

#include "lifeboat/store/sqlite.hpp"

namespace lifeboat::store::detail {

// The newest schema version this build writes.
inline constexpr int kNewestSchemaVersion = 1;

// The database file grows in steps of this many bytes (growInChunks).
inline constexpr int kChunkBytes = 32 * 1024 * 1024;

// Read-write: brings the database to kNewestSchemaVersion in one transaction
// and returns the version. Refuses (SqliteFailure) a database from a newer
// coordinator and one that holds tables but no schema_version.
int migrate(Connection& db);

// Read-only: the database's version, refusing one that is not migrated or
// newer than this build.
int readSchemaVersion(Connection& db);

}  // namespace lifeboat::store::detail

#include "lifeboat/engine/run_lock.hpp"

#include <unistd.h>

#include "lifeboat/engine/file_lock.hpp"

namespace lifeboat::engine {
namespace {

class FileRunLock final : public RunLock {
 public:
  FileRunLock(FileLock lock, std::string service)
      : lock_(std::move(lock)), service_(std::move(service)) {}
  std::string fencingToken() const override { return std::to_string(lock_.fencingToken()); }
  std::string describe() const override {
    return "service " + service_ + " locked on this host, fencing token " + fencingToken();
  }
  std::chrono::milliseconds keepAliveInterval() const override {
    return std::chrono::milliseconds(0);
  }
  Result<std::monostate> keepAlive() override { return std::monostate{}; }

 private:
  FileLock lock_;
  std::string service_;
};

}  // namespace

LockProvider fileLockProvider(const std::string& stateDirectory) {
  return [stateDirectory](const std::string& service,
                          const std::string& runId) -> Result<std::unique_ptr<RunLock>> {
    Result<FileLock> lock = FileLock::acquire(
        std::filesystem::path(stateDirectory) / "locks" / (service + ".lock"), "service " + service,
        "run " + runId + " (pid " + std::to_string(::getpid()) + ")");
    if (!lock) {
      return lock.error();
    }
    return std::unique_ptr<RunLock>(std::make_unique<FileRunLock>(std::move(*lock), service));
  };
}

}  // namespace lifeboat::engine

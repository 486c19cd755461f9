#include "lifeboat/locks/etcd_run_lock.hpp"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "lifeboat/common/host.hpp"

namespace lifeboat::locks {
namespace {

class EtcdRunLock final : public engine::RunLock {
 public:
  EtcdRunLock(EtcdLock lock, std::chrono::milliseconds ttl) : lock_(std::move(lock)), ttl_(ttl) {}

  std::string fencingToken() const override { return std::to_string(lock_.fencingToken()); }

  std::string describe() const override {
    std::ostringstream text;
    text << "etcd lock " << lock_.key() << " held with lease " << std::hex << lock_.leaseId()
         << std::dec << ", fencing token " << lock_.fencingToken();
    return text.str();
  }

  // A third of the TTL leaves two renewals' worth of slack before expiry.
  std::chrono::milliseconds keepAliveInterval() const override {
    return std::max(std::chrono::milliseconds(100), ttl_ / 3);
  }

  Result<std::monostate> keepAlive() override { return lock_.keepAlive(); }

 private:
  EtcdLock lock_;
  std::chrono::milliseconds ttl_;
};

}  // namespace

engine::LockProvider etcdLockProvider(EtcdOptions options) {
  return [options](const std::string& service,
                   const std::string& runId) -> Result<std::unique_ptr<engine::RunLock>> {
    EtcdOptions forRun = options;
    if (forRun.holder.empty()) {
      forRun.holder =
          "run " + runId + " on " + hostName() + " (pid " + std::to_string(::getpid()) + ")";
    }
    Result<EtcdLock> lock = EtcdLock::acquire(forRun, service, std::chrono::milliseconds(0));
    if (!lock) {
      return lock.error();
    }
    return std::unique_ptr<engine::RunLock>(
        std::make_unique<EtcdRunLock>(std::move(*lock), forRun.leaseTtl));
  };
}

}  // namespace lifeboat::locks

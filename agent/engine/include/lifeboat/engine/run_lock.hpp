#pragma once
// The failover lock a run holds from preflight to its end (DESIGN.md: "One
// failover at a time per service"). The engine takes it through a
// LockProvider: by default a local file lock (one host, FileLock); the etcd
// lock (agent/locks) for services whose agents run on several hosts.
//
// A lock that can be lost (a lease) is renewed by the engine on a thread of
// its own every keepAliveInterval(). When keepAlive() fails the lock is gone:
// the engine starts no further step (not even cleanup, since another agent
// may be failing the service over by now), lets running steps end, and ends
// the run `interrupted`.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "lifeboat/common/result.hpp"

namespace lifeboat::engine {

class RunLock {
 public:
  virtual ~RunLock() = default;
  // `${lock.fencing_token}` and the plugins' context.fencing_token: larger
  // for every later holder of the same lock.
  virtual std::string fencingToken() const = 0;
  // For the preflight record: "etcd lock /lifeboat/locks/orders, lease ...".
  virtual std::string describe() const = 0;
  // Zero for a lock that cannot be lost (a flock held by this process).
  virtual std::chrono::milliseconds keepAliveInterval() const = 0;
  // Renews the lock; an Error when it is lost. Called from the engine's lock
  // thread only.
  virtual Result<std::monostate> keepAlive() = 0;
};

// Takes the lock for `service` on behalf of run `runId` (without waiting: a
// held lock fails preflight, naming the holder).
using LockProvider = std::function<Result<std::unique_ptr<RunLock>>(const std::string& service,
                                                                    const std::string& runId)>;

// The default: an exclusive flock on <stateDirectory>/locks/<service>.lock
// with a fencing token kept beside it.
LockProvider fileLockProvider(const std::string& stateDirectory);

}  // namespace lifeboat::engine

#pragma once
// The etcd lock as a run's failover lock (engine::RunLock): taken in
// preflight without waiting, renewed by the engine every TTL / 3, and lost
// (the run stops starting steps) when the lease is gone.

#include "lifeboat/engine/run_lock.hpp"
#include "lifeboat/locks/etcd_lock.hpp"

namespace lifeboat::locks {

// `options.holder`, when empty, becomes "run <id> on <host> (pid <pid>)".
engine::LockProvider etcdLockProvider(EtcdOptions options);

}  // namespace lifeboat::locks

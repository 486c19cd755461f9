#pragma once
// The distributed failover lock: one holder per service across every agent
// that talks to the same etcd cluster (etcd 3.4+, through its v3 HTTP/JSON
// gateway and the agent's HTTP client). It replaces engine::FileLock when a
// service has agents on several hosts.
//
// How it works, and why this way:
//   - The lock is one key, `prefix + service`, created by a single
//     transaction "if the key does not exist (create_revision == 0), put it
//     with my lease". etcd applies transactions one at a time, so at most one
//     agent's put succeeds while the key exists: two agents never both hold
//     the lock. The value names the holder (EtcdOptions::holder) so
//     `etcdctl get /lifeboat/locks/<service>` and our messages can say who.
//   - The key is attached to the holder's lease. A crashed or partitioned
//     holder stops renewing it, etcd deletes the key when the TTL runs out,
//     and the lock is free again.
//   - The fencing token is the key's create revision. etcd's revision only
//     grows, and each holder creates the key anew after the previous one was
//     deleted, so a later holder always has a larger token than every earlier
//     one. A step or plugin that hands the token to the system it changes lets
//     that system refuse a stale holder (see isCurrentHolder()).
//   - Waiting polls the transaction (every 50-150 ms, jittered) until the key
//     is gone or `wait` ends, renewing our own lease in between.
//   We do not use etcd's lock service (/v3/lock/lock): it has no "try once"
//   mode (a blocked call waits inside etcd until the holder goes, and only the
//   HTTP connection closing tells etcd to stop waiting), its keys are
//   `<name>/<lease>` rather than one key an operator can read, and a waiter's
//   lease must be renewed from another thread while the call blocks. Polling
//   gives up fairness (no queue: any waiter may win), which a failover lock
//   does not need: the contenders are agents racing to fail over the same
//   service, and any one winner is right.
//
// Limits: etcd's user/password authentication is not supported (use TLS
// client certificates); endpoints are tried in order, starting with the last
// one that answered.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lifeboat/common/result.hpp"

namespace lifeboat::locks {

struct EtcdOptions {
  // "http://127.0.0.1:2379" or "https://etcd-1.example:2379"; scheme, host and
  // port only (no user:password@, no path).
  std::vector<std::string> endpoints;
  // PEM files for https endpoints: `caFile` empty = the system's roots;
  // `clientCertificate` with `clientKey` empty = the key is in the
  // certificate's file.
  std::string caFile, clientCertificate, clientKey;
  // The lease's TTL, rounded up to whole seconds (etcd may raise a very short
  // TTL to its own minimum, usually 2 s; the granted TTL is what counts).
  std::chrono::milliseconds leaseTtl{10'000};
  // Each HTTP request, per endpoint tried.
  std::chrono::milliseconds requestTimeout{2'000};
  std::string prefix = "/lifeboat/locks/";  // key = prefix + service
  // Who holds the lock, stored as the key's value and shown in other agents'
  // messages, e.g. "run 20261124T225610Z-k3f9 on db-2 (pid 4242)". Empty =
  // "<host name> (pid <pid>)". Not secret: anyone who reads etcd sees it.
  std::string holder;
};

// One held lock. Move-only. The lease is kept alive only by keepAlive() calls
// (the owner runs the timer); the lock ends with release(), the destructor,
// or the lease expiring.
//
// Threads: fencingToken(), leaseId(), key() and service() never change after
// acquire() and may be read from any thread. keepAlive(), release() and
// validUntil() are serialised by an internal mutex, so a timer thread may
// call keepAlive() while another thread calls release(); each may block for
// up to requestTimeout per endpoint. Moving an EtcdLock (or destroying it)
// must not race with any other call on the same object. A moved-from
// EtcdLock holds nothing: its token and lease are 0 and keepAlive() fails.
class EtcdLock {
 public:
  // Grants a lease and takes the lock for `service`, waiting up to `wait`
  // for the current holder to go (plus at most one request in flight when
  // `wait` ends; while etcd is unreachable, attempts repeat until then). `wait` 0 tries once: when
  // someone holds the lock, the Error names the holder, the key and its lease at once. `cancelled`
  // (optional) is polled while waiting and during requests; returning true gives up. On any failure
  // our lease is revoked (best effort), so nothing of this attempt stays in etcd.
  static Result<EtcdLock> acquire(const EtcdOptions& options, std::string_view service,
                                  std::chrono::milliseconds wait,
                                  std::function<bool()> cancelled = {});

  EtcdLock(EtcdLock&& other) noexcept;
  EtcdLock& operator=(EtcdLock&& other) noexcept;  // releases what this held
  EtcdLock(const EtcdLock&) = delete;
  EtcdLock& operator=(const EtcdLock&) = delete;
  // release(), best effort; never throws. May block for up to two requests.
  ~EtcdLock();

  // The lock key's create revision: strictly larger for every later holder.
  std::int64_t fencingToken() const;
  std::int64_t leaseId() const;
  const std::string& key() const;  // prefix + service
  const std::string& service() const;

  // Renews the lease and checks that the key is still ours. Call it about
  // every granted TTL / 3. Ok while the lock is held, including when etcd
  // could not be reached but the lease cannot have expired yet (the last
  // renewal was sent less than a TTL ago: see validUntil()). An Error when the
  // lock is lost: etcd says the lease is gone (expired, revoked) or the key
  // was deleted or taken over, or etcd stayed unreachable until the lease may
  // have expired. Once lost, every later call returns that Error: the caller
  // must stop starting steps.
  Result<std::monostate> keepAlive();

  // The latest time the lock can still be ours without another successful
  // keepAlive(): the last renewal's send time plus the granted TTL, so it is
  // never later than etcd's own expiry. Do not start a step after it.
  std::chrono::steady_clock::time_point validUntil() const;

  // Deletes the key (only if it still has our fencing token, so a lock that
  // already passed to someone else is never touched) and revokes the lease.
  // Ok when the lock is no longer ours afterwards, including when it was
  // already lost; an Error when etcd could not be reached (the lock then
  // frees itself when the lease expires). Later calls do nothing.
  Result<std::monostate> release();

 private:
  struct State;
  explicit EtcdLock(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Whether `service`'s lock is held right now with exactly `fencingToken`:
// what a fencing-aware step or plugin asks before acting. False when the lock
// is free or held by a later (or earlier) holder; an Error when etcd cannot
// be reached. Thread-safe.
Result<bool> isCurrentHolder(const EtcdOptions& options, std::string_view service,
                             std::int64_t fencingToken);

// Who holds the lock of `service` right now: nullopt when nobody does; an
// Error when etcd cannot be asked (the caller cannot tell held from free).
struct LockHolder {
  std::string holder;             // the holder's description (EtcdOptions::holder)
  std::int64_t fencingToken = 0;  // the key's create revision
};
Result<std::optional<LockHolder>> currentHolder(const EtcdOptions& options,
                                                std::string_view service);

}  // namespace lifeboat::locks

#include "lifeboat/locks/etcd_lock.hpp"

#include <unistd.h>

#include <array>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "etcd_gateway.hpp"
#include "lifeboat/common/host.hpp"

namespace lifeboat::locks {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using detail::EtcdGateway;
using detail::GatewayAnswer;
using std::chrono::milliseconds;

constexpr int kGrpcNotFound = 5;
// Between two attempts while waiting; jittered so that waiting agents do not
// ask in lock step.
constexpr milliseconds kPollMin{50};
constexpr milliseconds kPollMax{150};
// Slices of a poll pause, so that `cancelled` is noticed promptly.
constexpr milliseconds kCancelSlice{25};

std::string defaultHolder() {
  return hostName() + " (pid " + std::to_string(::getpid()) + ")";
}

std::string seconds(std::int64_t ttlSeconds) {
  return std::to_string(ttlSeconds) + "s";
}

// Whether the gateway says our lease does not exist (any more).
bool leaseNotFound(const GatewayAnswer& answer) {
  return answer.kind == GatewayAnswer::Kind::rejected && answer.grpcCode == kGrpcNotFound;
}

json::object revokeRequest(std::int64_t lease) {
  return json::object{{"ID", std::to_string(lease)}};
}

}  // namespace

struct EtcdLock::State {
  State(const EtcdOptions& opts, std::string_view svc)
      : options(opts), gateway(options), service(svc), key(options.prefix + service) {}

  EtcdOptions options;  // before `gateway`, which refers to it
  EtcdGateway gateway;
  std::string service;
  std::string key;
  std::int64_t lease = 0;
  std::int64_t token = 0;
  std::int64_t ttlSeconds = 0;  // as granted by etcd

  std::mutex mutex;  // guards what follows, and `gateway` once acquired
  Clock::time_point validUntil;
  std::optional<Error> lost;  // sticky once the lock is known to be gone
  std::string lastFailure;    // why the last renewal did not reach etcd, if it did not
  bool released = false;

  // "service orders (etcd key /lifeboat/locks/orders, lease 20408a…)"
  std::string describe() const {
    return "service " + service + " (etcd key " + key + ", lease " + detail::leaseHex(lease) +
           ", fencing token " + std::to_string(token) + ")";
  }

  // Renews the lease; on success moves validUntil. Caller holds `mutex` (or
  // is the only thread that knows this State).
  GatewayAnswer renew() {
    const Clock::time_point sent = Clock::now();
    GatewayAnswer answer = gateway.call("/v3/lease/keepalive",
                                        json::object{{"ID", std::to_string(lease)}}, validUntil);
    if (answer.kind != GatewayAnswer::Kind::ok) {
      return answer;
    }
    // A stream answer: {"result": {"ID": …, "TTL": …}} or {"error": …}. A
    // missing or zero TTL means etcd no longer knows the lease.
    const json::value* result = answer.body.if_contains("result");
    const std::int64_t ttl = result && result->is_object()
                                 ? detail::int64Field(result->get_object(), "TTL").value_or(0)
                                 : 0;
    if (ttl <= 0) {
      answer.kind = GatewayAnswer::Kind::rejected;
      answer.grpcCode = kGrpcNotFound;
      answer.error = Error{"etcd no longer knows the lease", ""};
      return answer;
    }
    ttlSeconds = ttl;
    validUntil = sent + std::chrono::seconds(ttl);
    return answer;
  }

  // Best effort: our lease and every key attached to it go.
  void revokeQuietly() { (void)gateway.call("/v3/lease/revoke", revokeRequest(lease)); }
};

EtcdLock::EtcdLock(std::unique_ptr<State> state) : state_(std::move(state)) {}
EtcdLock::EtcdLock(EtcdLock&& other) noexcept = default;

EtcdLock& EtcdLock::operator=(EtcdLock&& other) noexcept {
  if (this != &other) {
    if (state_) {
      (void)release();
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

EtcdLock::~EtcdLock() {
  if (state_) {
    (void)release();
  }
}

std::int64_t EtcdLock::fencingToken() const {
  return state_ ? state_->token : 0;
}
std::int64_t EtcdLock::leaseId() const {
  return state_ ? state_->lease : 0;
}

const std::string& EtcdLock::key() const {
  static const std::string kNone;
  return state_ ? state_->key : kNone;
}

const std::string& EtcdLock::service() const {
  static const std::string kNone;
  return state_ ? state_->service : kNone;
}

Clock::time_point EtcdLock::validUntil() const {
  if (!state_) {
    return {};
  }
  std::lock_guard guard(state_->mutex);
  return state_->validUntil;
}

Result<EtcdLock> EtcdLock::acquire(const EtcdOptions& options, std::string_view service,
                                   milliseconds wait, std::function<bool()> cancelled) {
  if (auto valid = detail::validateOptions(options, service); !valid) {
    return valid.error();
  }
  auto state = std::make_unique<State>(options, service);
  const Clock::time_point deadline = Clock::now() + std::max(wait, milliseconds(0));
  const std::string holder = options.holder.empty() ? defaultHolder() : options.holder;

  // 1. Our lease.
  const auto ttlRequested = (options.leaseTtl + milliseconds(999)) / std::chrono::seconds(1);
  const Clock::time_point grantSent = Clock::now();
  GatewayAnswer granted = state->gateway.call(
      "/v3/lease/grant", json::object{{"TTL", ttlRequested}}, std::nullopt, cancelled);
  if (granted.kind != GatewayAnswer::Kind::ok) {
    Error error = granted.error;
    error.message = "cannot lock service " + std::string(service) +
                    ": granting an etcd lease failed: " + error.message;
    return error;
  }
  state->lease = detail::int64Field(granted.body, "ID").value_or(0);
  state->ttlSeconds = detail::int64Field(granted.body, "TTL").value_or(0);
  if (state->lease == 0 || state->ttlSeconds <= 0) {
    return Error{"cannot lock service " + std::string(service) + ": etcd at " +
                     state->gateway.endpointList() +
                     " answered the lease grant without an ID "
                     "or TTL",
                 "check that the endpoints are etcd 3.4 or later client URLs"};
  }
  state->validUntil = grantSent + std::chrono::seconds(state->ttlSeconds);

  // 2. The key, created only where absent, with our lease; else read who
  // holds it.
  const std::string encodedKey = detail::base64Encode(state->key);
  const std::string leaseText = std::to_string(state->lease);
  const json::object txn{
      {"compare", json::array{json::object{{"key", encodedKey},
                                           {"target", "CREATE"},
                                           {"result", "EQUAL"},
                                           {"create_revision", "0"}}}},
      {"success", json::array{json::object{
                      {"request_put", json::object{{"key", encodedKey},
                                                   {"value", detail::base64Encode(holder)},
                                                   {"lease", leaseText}}}}}},
      {"failure", json::array{json::object{{"request_range", json::object{{"key", encodedKey}}}}}},
  };

  std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> pause(static_cast<int>(kPollMin.count()),
                                           static_cast<int>(kPollMax.count()));
  auto fail = [&](Error error) -> Result<EtcdLock> {
    // Also deletes the key if a put of ours succeeded but its answer was lost.
    state->revokeQuietly();
    return error;
  };
  Clock::time_point lastRenewal = grantSent;
  for (;;) {
    const GatewayAnswer answer = state->gateway.call("/v3/kv/txn", txn, std::nullopt, cancelled);
    if (answer.kind == GatewayAnswer::Kind::cancelled) {
      return fail(Error{"cancelled while locking service " + std::string(service), ""});
    }
    std::optional<Error> notYet;  // why this attempt did not get the lock
    if (answer.kind == GatewayAnswer::Kind::ok) {
      const bool succeeded = answer.body.contains("succeeded") &&
                             answer.body.at("succeeded").is_bool() &&
                             answer.body.at("succeeded").get_bool();
      const json::value* header = answer.body.if_contains("header");
      if (succeeded) {
        // The put's revision is the txn's: the key's create revision.
        state->token = header && header->is_object()
                           ? detail::int64Field(header->get_object(), "revision").value_or(0)
                           : 0;
        if (state->token <= 0) {
          return fail(Error{"cannot lock service " + std::string(service) +
                                ": etcd's answer to the lock transaction has no revision",
                            "check that the endpoints are etcd 3.4 or later client URLs"});
        }
        return EtcdLock(std::move(state));
      }
      std::optional<detail::KeyValue> current;
      if (const json::value* responses = answer.body.if_contains("responses");
          responses && responses->is_array() && !responses->get_array().empty() &&
          responses->get_array().front().is_object()) {
        const json::value* range =
            responses->get_array().front().get_object().if_contains("response_range");
        if (range && range->is_object()) {
          current = detail::firstKeyValue(range->get_object());
        }
      }
      if (current && current->lease == state->lease) {
        // An earlier put of ours went through though its answer got lost.
        state->token = current->createRevision;
        return EtcdLock(std::move(state));
      }
      if (current) {
        notYet =
            Error{"service " + std::string(service) + " is locked by " +
                      (current->value.empty() ? "an unnamed holder" : current->value) +
                      " (etcd key " + state->key + ", lease " + detail::leaseHex(current->lease) +
                      ", fencing token " + std::to_string(current->createRevision) + ")",
                  "another agent holds the failover lock; wait for its run to end. If it "
                  "crashed, the lock frees itself when its lease expires (etcdctl lease "
                  "timetolive " +
                      detail::leaseHex(current->lease) + " shows how long)"};
      } else {
        notYet = Error{
            "service " + std::string(service) + " is locked (etcd's answer did not say by whom)",
            "another agent holds the failover lock; wait for its run to end"};
      }
    } else if (leaseNotFound(answer)) {
      return fail(
          Error{"cannot lock service " + std::string(service) + ": our etcd lease " +
                    detail::leaseHex(state->lease) + " expired while waiting",
                "check that etcd and this host are not overloaded; " + answer.error.message});
    } else {
      // Unreachable or refused: worth another try while the wait lasts.
      notYet = answer.error;
      notYet->message = "cannot lock service " + std::string(service) + ": " + notYet->message;
    }

    if (Clock::now() >= deadline) {
      return fail(*notYet);
    }
    // Keep our lease alive while we wait (etcd-side it only guards the key
    // we may create, but an expired lease would make every put fail).
    if (Clock::now() - lastRenewal >= std::chrono::seconds(state->ttlSeconds) / 3) {
      lastRenewal = Clock::now();
      const GatewayAnswer renewed = state->renew();
      if (leaseNotFound(renewed)) {
        return fail(Error{"cannot lock service " + std::string(service) + ": our etcd lease " +
                              detail::leaseHex(state->lease) + " expired while waiting",
                          "check that etcd and this host are not overloaded"});
      }
    }
    const Clock::time_point wakeUp = std::min(deadline, Clock::now() + milliseconds(pause(random)));
    while (Clock::now() < wakeUp) {
      if (cancelled && cancelled()) {
        return fail(
            Error{"cancelled while waiting for the lock of service " + std::string(service), ""});
      }
      std::this_thread::sleep_for(
          std::min(kCancelSlice, std::chrono::duration_cast<milliseconds>(wakeUp - Clock::now())));
    }
  }
}

Result<std::monostate> EtcdLock::keepAlive() {
  if (!state_) {
    return Error{"etcd lock: keepAlive() on a moved-from lock", ""};
  }
  State& state = *state_;
  std::lock_guard guard(state.mutex);
  if (state.released) {
    return Error{"etcd lock for " + state.describe() + " was already released", ""};
  }
  if (state.lost) {
    return *state.lost;
  }
  const std::string lostHint =
      "stop starting steps: another agent may now hold the lock. Check etcd's health and this "
      "host's connection to it; a lease expires when no keepalive reaches etcd within its TTL "
      "(" +
      seconds(state.ttlSeconds) + ")";
  if (Clock::now() >= state.validUntil) {
    state.lost = Error{"lost the failover lock for " + state.describe() +
                           ": no keepalive reached etcd within the lease TTL of " +
                           seconds(state.ttlSeconds) +
                           (state.lastFailure.empty() ? "" : " (" + state.lastFailure + ")"),
                       lostHint};
    return *state.lost;
  }

  const GatewayAnswer renewed = state.renew();
  if (leaseNotFound(renewed)) {
    state.lost = Error{"lost the failover lock for " + state.describe() +
                           ": etcd says the lease no longer exists (expired or revoked)",
                       lostHint};
    return *state.lost;
  }
  if (renewed.kind != GatewayAnswer::Kind::ok) {
    state.lastFailure = renewed.error.message;
    if (Clock::now() >= state.validUntil) {
      state.lost = Error{"lost the failover lock for " + state.describe() +
                             ": etcd stayed unreachable for the lease TTL of " +
                             seconds(state.ttlSeconds) + " (" + renewed.error.message + ")",
                         lostHint};
      return *state.lost;
    }
    return std::monostate{};  // the lease is still valid: try again next time
  }

  state.lastFailure.clear();
  // The lease lives; check that the key is still ours (an operator may have
  // deleted it to break the lock).
  const GatewayAnswer range = state.gateway.call(
      "/v3/kv/range", json::object{{"key", detail::base64Encode(state.key)}}, state.validUntil);
  if (range.kind == GatewayAnswer::Kind::ok) {
    const std::optional<detail::KeyValue> current = detail::firstKeyValue(range.body);
    if (!current || current->createRevision != state.token) {
      state.lost =
          Error{"lost the failover lock for " + state.describe() + ": the lock key was deleted" +
                    (current ? " and is now held by " + current->value : ""),
                lostHint};
      return *state.lost;
    }
  }
  return std::monostate{};
}

Result<std::monostate> EtcdLock::release() {
  if (!state_) {
    return std::monostate{};
  }
  State& state = *state_;
  std::lock_guard guard(state.mutex);
  if (state.released) {
    return std::monostate{};
  }
  state.released = true;
  const std::string encodedKey = detail::base64Encode(state.key);
  // Delete the key only while it still carries our token: if our lease ran
  // out, the key may be someone else's by now.
  const json::object unlock{
      {"compare", json::array{json::object{{"key", encodedKey},
                                           {"target", "CREATE"},
                                           {"result", "EQUAL"},
                                           {"create_revision", std::to_string(state.token)}}}},
      {"success",
       json::array{json::object{{"request_delete_range", json::object{{"key", encodedKey}}}}}},
  };
  const GatewayAnswer deleted = state.gateway.call("/v3/kv/txn", unlock);
  const GatewayAnswer revoked = state.gateway.call("/v3/lease/revoke", revokeRequest(state.lease));
  if (deleted.kind == GatewayAnswer::Kind::ok || revoked.kind == GatewayAnswer::Kind::ok ||
      leaseNotFound(revoked)) {
    return std::monostate{};
  }
  return Error{
      "could not release the failover lock for " + state.describe() + ": " + revoked.error.message,
      "the lock frees itself when the lease expires, within " + seconds(state.ttlSeconds) + "; " +
          revoked.error.hint};
}

Result<bool> isCurrentHolder(const EtcdOptions& options, std::string_view service,
                             std::int64_t fencingToken) {
  Result<std::optional<LockHolder>> holder = currentHolder(options, service);
  if (!holder) {
    return holder.error();
  }
  return holder->has_value() && fencingToken > 0 && (*holder)->fencingToken == fencingToken;
}

Result<std::optional<LockHolder>> currentHolder(const EtcdOptions& options,
                                                std::string_view service) {
  if (auto valid = detail::validateOptions(options, service); !valid) {
    return valid.error();
  }
  EtcdGateway gateway(options);
  const std::string key = options.prefix + std::string(service);
  const GatewayAnswer answer =
      gateway.call("/v3/kv/range", json::object{{"key", detail::base64Encode(key)}});
  if (answer.kind != GatewayAnswer::Kind::ok) {
    Error error = answer.error;
    error.message =
        "cannot read the failover lock of service " + std::string(service) + ": " + error.message;
    return error;
  }
  const std::optional<detail::KeyValue> current = detail::firstKeyValue(answer.body);
  if (!current) {
    return std::optional<LockHolder>{};
  }
  return std::optional<LockHolder>{LockHolder{current->value, current->createRevision}};
}

}  // namespace lifeboat::locks

#include <algorithm>
#include <boost/json/parse.hpp>
#include <chrono>
#include <random>

#include "engine_impl.hpp"

namespace lifeboat::comms {

namespace detail {

constexpr std::size_t kEventsPerPass = 500;

namespace {

// After this many failed attempts in a row a channel is reported failing.
constexpr std::int64_t kFailingAfter = 3;

Facts parseFacts(const std::string& json) {
  Facts facts;
  boost::system::error_code error;
  const boost::json::value value = boost::json::parse(json, error);
  if (!error && value.is_object()) {
    for (const auto& member : value.get_object()) {
      if (member.value().is_string()) {
        facts[std::string(member.key())] = std::string(member.value().get_string());
      }
    }
  }
  return facts;
}

Message toMessage(const MessageRow& row) {
  Message message;
  message.id = row.id;
  message.dedupKey = row.dedupKey;
  message.incident = row.incident;
  message.audience = row.audience;
  message.channel = row.channel;
  message.trigger = row.trigger;
  message.drill = row.drill;
  message.resolves = row.resolves;
  message.subject = row.subject;
  message.body = row.body;
  message.facts = parseFacts(row.facts);
  message.createdAt = fromMillis(row.createdAt);
  return message;
}

// Exponential backoff from 1 s, capped at 5 minutes, with +-20 % jitter so
// that messages failing together do not retry together.
std::int64_t backoff(std::int64_t attempts) {
  static thread_local std::minstd_rand random{std::random_device{}()};
  const std::int64_t base =
      std::min<std::int64_t>(300'000, std::int64_t{1000} << std::min<std::int64_t>(attempts, 9));
  std::uniform_int_distribution<std::int64_t> jitter(-base / 5, base / 5);
  return base + jitter(random);
}

}  // namespace

// One channel's sender: its own thread, connection and rate limit.
class ChannelWorker {
 public:
  ChannelWorker(Engine::Impl& engine, const ChannelSpec& channel)
      : engine_(engine), channel_(channel) {
    tokens_ = burst();
  }
  ~ChannelWorker() { stop(); }
  ChannelWorker(const ChannelWorker&) = delete;
  ChannelWorker& operator=(const ChannelWorker&) = delete;

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  void poke() {
    {
      const std::lock_guard lock(mutex_);
      poked_ = true;
    }
    wake_.notify_all();
  }

 private:
  double burst() const { return std::max(1.0, channel_.perMinute / 6.0); }

  void loop() {
    std::unique_ptr<Connection> db;
    while (true) {
      std::int64_t waitMs = 60'000;
      try {
        if (!db) {
          db = openOutbox(engine_.options.database);
        }
        waitMs = step(*db);
      } catch (const SqliteFailure& failure) {
        engine_.log("comms: channel " + channel_.name + ": " + failure.error.message);
        waitMs = 1000;
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, Milliseconds{std::max<std::int64_t>(waitMs, 0)},
                     [this] { return stopping_ || poked_; });
      if (stopping_) {
        return;
      }
      poked_ = false;
    }
  }

  // Sends what is due; returns how long to sleep.
  std::int64_t step(Connection& db) {
    while (true) {
      {
        const std::lock_guard lock(mutex_);
        if (stopping_) {
          return 0;
        }
      }
      std::optional<MessageRow> row = nextPending(db, channel_.name);
      if (!row) {
        return 60'000;
      }
      const std::int64_t now = engine_.now();
      if (row->nextAttemptAt > now) {
        return row->nextAttemptAt - now;
      }
      // Token bucket: perMinute a minute, bursts of a sixth of that.
      const auto clock = std::chrono::steady_clock::now();
      if (lastRefill_) {
        const double seconds = std::chrono::duration<double>(clock - *lastRefill_).count();
        tokens_ = std::min(burst(), tokens_ + seconds * channel_.perMinute / 60.0);
      }
      lastRefill_ = clock;
      if (tokens_ < 1.0) {
        return static_cast<std::int64_t>((1.0 - tokens_) * 60'000.0 / channel_.perMinute) + 1;
      }
      tokens_ -= 1.0;
      const Delivery delivery = engine_.options.sender(channel_, toMessage(*row));
      record(db, *row, delivery);
    }
  }

  void record(Connection& db, MessageRow& row, const Delivery& delivery) {
    const std::int64_t now = engine_.now();
    Transaction transaction(db);
    std::optional<MessageRow> current = loadMessage(db, row.id);
    if (!current || current->state != "pending") {
      return;  // rejected or edited meanwhile: nothing to record
    }
    row = *current;
    row.attempts += 1;
    row.lastStatus = delivery.status;
    std::string outcome;
    if (delivery.outcome == Delivery::Outcome::sent) {
      row.state = "sent";
      row.sentAt = now;
      row.lastError.clear();
      outcome = "sent";
    } else if (delivery.outcome == Delivery::Outcome::retry &&
               now - row.createdAt < channel_.giveUpAfter.count()) {
      row.lastError = delivery.detail;
      std::int64_t delay = backoff(row.attempts - 1);
      if (delivery.retryAfter) {
        delay = std::clamp<std::int64_t>(delivery.retryAfter->count(), 0, 3'600'000);
      }
      row.nextAttemptAt = now + delay;
      outcome = "retry";
    } else {
      row.state = "failed";
      row.lastError =
          delivery.outcome == Delivery::Outcome::retry
              ? "gave up after " + std::to_string(row.attempts) + " attempts: " + delivery.detail
              : delivery.detail;
      outcome = "failed";
    }
    Statement update = db.prepare(
        "UPDATE messages SET state = ?2, attempts = ?3, sent_at = ?4, last_error = ?5, "
        "last_status = ?6, next_attempt_at = ?7 WHERE id = ?1");
    update.bind(1, row.id)
        .bind(2, std::string_view(row.state))
        .bind(3, row.attempts)
        .bind(4, row.sentAt)
        .bind(5, std::string_view(row.lastError))
        .bind(6, row.lastStatus)
        .bind(7, row.nextAttemptAt);
    update.run();
    if (outcome == "sent") {
      Composer::delivered(db, row, now);
    }
    health(db, row, delivery, outcome, now);
    transaction.commit();
    engine_.log("comms: message " + std::to_string(row.id) + " (" + row.audience + ", " +
                row.trigger + ") on " + channel_.name + ": " + outcome +
                (row.lastError.empty() ? "" : " (" + row.lastError + ")"));
    if (outcome == "failed" && !row.audience.starts_with("role:")) {
      engine_.wakeSenders();
    }
  }

  void health(Connection& db, const MessageRow& row, const Delivery& delivery,
              const std::string& outcome, std::int64_t now) {
    Statement ensure = db.prepare(
        "INSERT OR IGNORE INTO channel_health (channel, consecutive_failures, last_error, "
        "reported) VALUES (?1, 0, '', 0)");
    ensure.bind(1, std::string_view(channel_.name));
    ensure.run();
    if (outcome == "sent") {
      Statement ok = db.prepare(
          "UPDATE channel_health SET consecutive_failures = 0, last_success_at = ?2, reported = "
          "0 WHERE channel = ?1");
      ok.bind(1, std::string_view(channel_.name)).bind(2, now);
      ok.run();
      return;
    }
    Statement failed = db.prepare(
        "UPDATE channel_health SET consecutive_failures = consecutive_failures + 1, last_error = "
        "?2, last_failure_at = ?3 WHERE channel = ?1 RETURNING consecutive_failures, reported");
    failed.bind(1, std::string_view(channel_.name))
        .bind(2, std::string_view(delivery.detail))
        .bind(3, now);
    failed.step();
    const std::int64_t failures = failed.integer(0);
    const bool reported = failed.integer(1) != 0;
    failed.run();
    const std::optional<Incident> incident = loadIncident(db, row.incident);
    if (outcome == "failed" && !row.audience.starts_with("role:")) {
      engine_.composer.alertRole(
          db, "incident_commander", incident ? &*incident : nullptr, "message_failed",
          std::to_string(row.id), "Message not delivered: " + row.audience + " on " + channel_.name,
          "The message \"" + row.subject + "\" to " + row.audience + " could not be delivered on " +
              channel_.name + ": " + row.lastError + ".",
          now);
    }
    if (failures >= kFailingAfter && !reported && !row.audience.starts_with("role:")) {
      engine_.composer.alertRole(
          db, "incident_commander", incident ? &*incident : nullptr, "channel_failing",
          channel_.name + "/" + std::to_string(now), "Channel failing: " + channel_.name,
          "The channel " + channel_.name + " (" + std::string(channelKindName(channel_.kind)) +
              ") failed " + std::to_string(failures) + " attempts in a row; last: " +
              delivery.detail + ". Messages wait in the outbox and are retried.",
          now);
      Statement mark = db.prepare("UPDATE channel_health SET reported = 1 WHERE channel = ?1");
      mark.bind(1, std::string_view(channel_.name));
      mark.run();
      engine_.log("comms: channel " + channel_.name + " is failing (" + std::to_string(failures) +
                  " attempts in a row: " + delivery.detail + ")");
    }
  }

  Engine::Impl& engine_;
  const ChannelSpec& channel_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = false;
  double tokens_ = 1;
  std::optional<std::chrono::steady_clock::time_point> lastRefill_{};
};

}  // namespace detail

Engine::Impl::Impl(EngineOptions engineOptions)
    : options(std::move(engineOptions)),
      composer(options.plan, options.statusPageUrl),
      ingest(composer) {
  if (!options.clock) {
    options.clock = [] {
      return std::chrono::time_point_cast<Milliseconds>(std::chrono::system_clock::now());
    };
  }
  if (!options.sender) {
    options.sender = [](const ChannelSpec& channel, const Message& message) {
      return send(channel, message);
    };
  }
}

void Engine::Impl::wakeSenders() {
  for (auto& worker : workers) {
    worker->poke();
  }
}

std::size_t Engine::Impl::pass(std::optional<std::int64_t>& nextWake) {
  const std::lock_guard lock(writerMutex);
  std::size_t made = 0;
  if (!events) {
    Result<std::unique_ptr<store::Store>> opened =
        store::Store::open(options.eventsDatabase, store::Access::ReadOnly);
    if (!opened) {
      throw detail::SqliteFailure{opened.error(), SQLITE_ERROR};
    }
    events = std::move(*opened);
  }
  while (true) {
    store::EventFilter filter;
    filter.afterId = detail::cursor(*writer);
    filter.limit = detail::kEventsPerPass;
    Result<boost::json::array> batch = events->events(filter);
    if (!batch) {
      throw detail::SqliteFailure{batch.error(), SQLITE_ERROR};
    }
    if (batch->empty()) {
      break;
    }
    for (const boost::json::value& event : *batch) {
      // One transaction per event: its messages and the cursor together.
      detail::Transaction transaction(*writer);
      const auto& object = event.get_object();
      made += ingest.apply(*writer, object, now());
      detail::setCursor(*writer, object.at("id").as_int64());
      transaction.commit();
    }
    if (batch->size() < detail::kEventsPerPass) {
      break;
    }
  }
  detail::Transaction transaction(*writer);
  made += ingest.tick(*writer, now(), nextWake);
  transaction.commit();
  return made;
}

void Engine::Impl::loop() {
  while (true) {
    std::optional<std::int64_t> nextWake;
    try {
      if (pass(nextWake) > 0) {
        wakeSenders();
      }
    } catch (const detail::SqliteFailure& failure) {
      log("comms: " + failure.error.message);
      nextWake = now() + 1000;
    }
    std::unique_lock lock(mutex);
    // At most a second: events committed without a wake-up (another
    // process, a lost notification) are still read promptly.
    const std::int64_t waitMs =
        std::clamp<std::int64_t>(nextWake.value_or(now() + 1000) - now(), 0, 1000);
    wake.wait_for(lock, Milliseconds{waitMs}, [this] { return stopping || eventsPending; });
    if (stopping) {
      return;
    }
    eventsPending = false;
  }
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  stop();
}

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  Result<std::monostate> opened = detail::guarded<std::monostate>([&] {
    impl->writer = detail::openOutbox(impl->options.database);
    impl->api = detail::openOutbox(impl->options.database);
    return std::monostate{};
  });
  if (!opened) {
    return opened.error();
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::start() {
  if (impl_->thread.joinable()) {
    return;
  }
  for (const auto& [name, channel] : impl_->options.plan.channels) {
    impl_->workers.push_back(std::make_unique<detail::ChannelWorker>(*impl_, channel));
    impl_->workers.back()->start();
  }
  impl_->thread = std::thread([this] { impl_->loop(); });
}

void Engine::stop() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  impl_->workers.clear();
}

void Engine::eventsStored() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->eventsPending = true;
  }
  impl_->wake.notify_all();
}

Result<std::size_t> Engine::catchUp() {
  return detail::guarded<std::size_t>([&] {
    std::optional<std::int64_t> nextWake;
    const std::size_t made = impl_->pass(nextWake);
    impl_->wakeSenders();
    return made;
  });
}

bool Engine::waitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<bool> idle = detail::guarded<bool>([&] {
      const std::lock_guard lock(impl_->apiMutex);
      detail::Statement query = impl_->api->prepare(
          "SELECT count(*) FROM messages WHERE state = 'pending' AND next_attempt_at <= ?1");
      query.bind(1, impl_->now());
      query.step();
      return query.integer(0) == 0;
    });
    if (idle && *idle) {
      return true;
    }
    std::this_thread::sleep_for(Milliseconds{20});
  }
  return false;
}

Result<boost::json::array> Engine::messages(const MessageFilter& filter) {
  return detail::guarded<boost::json::array>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    boost::json::array out;
    for (const detail::MessageRow& row :
         detail::messagesWhere(*impl_->api, filter.incident, filter.state, filter.limit)) {
      out.push_back(detail::messageJson(row));
    }
    return out;
  });
}

namespace {

Result<boost::json::object> decide(Engine::Impl& impl, std::int64_t id, std::string_view by,
                                   std::string_view newState, std::optional<std::string> subject,
                                   std::optional<std::string> body, std::string_view reason) {
  bool changed = false;
  Result<std::optional<detail::MessageRow>> result =
      detail::guarded<std::optional<detail::MessageRow>>(
          [&]() -> std::optional<detail::MessageRow> {
            const std::lock_guard lock(impl.apiMutex);
            detail::Connection& db = *impl.api;
            detail::Transaction transaction(db);
            std::optional<detail::MessageRow> row = detail::loadMessage(db, id);
            if (!row || row->state != "awaiting_approval") {
              return row;
            }
            const std::int64_t now = impl.now();
            const bool edited = subject || body;
            // An edit of a drill message cannot remove its drill marking.
            if (row->drill && subject) {
              subject = detail::markDrillSubject(std::move(*subject));
            }
            if (row->drill && body) {
              body = detail::markDrillBody(std::move(*body));
            }
            detail::Statement update = db.prepare(
                "UPDATE messages SET state = CASE WHEN ?2 = 'pending' AND channel = ?7 THEN 'sent' "
                "ELSE ?2 END, sent_at = CASE WHEN ?2 = 'pending' AND channel = ?7 THEN ?4 ELSE "
                "sent_at END, approved_by = ?3, approved_at = ?4, next_attempt_at = ?4, "
                "subject = coalesce(?5, subject), body = coalesce(?6, body), edited = edited OR "
                "?8, last_error = ?9 WHERE group_key = ?1 AND state = 'awaiting_approval'");
            update.bind(1, std::string_view(row->groupKey))
                .bind(2, newState)
                .bind(3, by)
                .bind(4, now)
                .bind(5, subject)
                .bind(6, body)
                .bind(7, kStatusPageChannel)
                .bind(8, std::int64_t{edited ? 1 : 0})
                .bind(9, reason);
            update.run();
            changed = db.changes() > 0;
            if (newState == "pending") {
              // Published on the status page at once: that counts as delivered.
              detail::Composer::delivered(db, *detail::loadMessage(db, id), now);
            }
            transaction.commit();
            return detail::loadMessage(db, id);
          });
  if (!result) {
    return result.error();
  }
  if (!*result) {
    return Error{"message " + std::to_string(id) + " does not exist", ""};
  }
  const detail::MessageRow& row = **result;
  if (!changed) {
    return Error{"message " + std::to_string(id) + " is " + row.state + ", not awaiting approval",
                 ""};
  }
  impl.log("comms: message " + std::to_string(id) + " to " + row.audience + " " +
           (newState == "pending" ? "approved" : "rejected") + " by " + std::string(by));
  impl.wakeSenders();
  return detail::messageJson(row);
}

}  // namespace

Result<boost::json::object> Engine::approve(std::int64_t id, std::string_view by,
                                            std::optional<std::string> subject,
                                            std::optional<std::string> body) {
  return decide(*impl_, id, by, "pending", std::move(subject), std::move(body), "");
}

Result<boost::json::object> Engine::reject(std::int64_t id, std::string_view by,
                                           std::string_view reason) {
  return decide(*impl_, id, by, "rejected", std::nullopt, std::nullopt, reason);
}

Result<boost::json::object> Engine::resolve(std::string_view key, std::string_view by,
                                            std::string_view note) {
  bool resolvedNow = false;
  Result<bool> found = detail::guarded<bool>([&] {
    const std::lock_guard lock(impl_->writerMutex);
    detail::Connection& db = *impl_->writer;
    detail::Transaction transaction(db);
    std::optional<detail::Incident> incident = detail::loadIncident(db, key);
    if (!incident) {
      return false;
    }
    if (incident->state != "resolved") {
      const std::int64_t now = impl_->now();
      incident->state = "resolved";
      incident->resolvedAt = now;
      incident->resolvedBy = std::string(by);
      detail::saveIncident(db, *incident);
      detail::Occasion occasion{Trigger::resolved};
      occasion.extra["note"] = std::string(note);
      impl_->composer.announce(db, *incident, occasion, now);
      resolvedNow = true;
    }
    transaction.commit();
    return true;
  });
  if (!found) {
    return found.error();
  }
  if (!*found) {
    return Error{"incident " + std::string(key) + " does not exist", ""};
  }
  if (!resolvedNow) {
    return Error{"incident " + std::string(key) + " is already resolved", ""};
  }
  impl_->log("comms: incident " + std::string(key) + " resolved by " + std::string(by));
  impl_->wakeSenders();
  Result<std::optional<boost::json::object>> shown = incident(key);
  if (!shown) {
    return shown.error();
  }
  return shown->value_or(boost::json::object{});
}

Result<boost::json::array> Engine::channels() {
  return detail::guarded<boost::json::array>([&] {
    const std::lock_guard lock(impl_->apiMutex);
    detail::Connection& db = *impl_->api;
    boost::json::array out;
    for (const auto& [name, channel] : impl_->options.plan.channels) {
      boost::json::object item;
      item["name"] = name;
      item["kind"] = channelKindName(channel.kind);
      detail::Statement health = db.prepare(
          "SELECT consecutive_failures, last_error, last_failure_at, last_success_at FROM "
          "channel_health WHERE channel = ?1");
      health.bind(1, std::string_view(name));
      std::int64_t failures = 0;
      item["last_error"] = "";
      item["last_failure_at"] = nullptr;
      item["last_success_at"] = nullptr;
      if (health.step()) {
        failures = health.integer(0);
        item["last_error"] = health.text(1);
        if (auto at = health.optionalInteger(2)) {
          item["last_failure_at"] = formatTimestamp(detail::fromMillis(*at));
        }
        if (auto at = health.optionalInteger(3)) {
          item["last_success_at"] = formatTimestamp(detail::fromMillis(*at));
        }
      }
      item["consecutive_failures"] = failures;
      item["state"] = failures >= 3 ? "failing" : "ok";
      for (std::string_view state : {"pending", "sent", "failed"}) {
        detail::Statement count =
            db.prepare("SELECT count(*) FROM messages WHERE channel = ?1 AND state = ?2");
        count.bind(1, std::string_view(name)).bind(2, state);
        count.step();
        item[state] = count.integer(0);
      }
      out.push_back(std::move(item));
    }
    return out;
  });
}

}  // namespace lifeboat::comms

#include "lifeboat/store/wal_syncer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace lifeboat::store {

namespace {

int fdatasyncRetrying(int fd) {
  for (;;) {
    if (::fdatasync(fd) == 0) {
      return 0;
    }
    if (errno != EINTR) {
      return errno;
    }
  }
}

// Linux syncs through any descriptor of the file, a read-only one too
// (fsync(2): "on some UNIX systems (but not Linux), fd must be writable").
int openWal(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

std::string errnoText(int code) {
  return std::string(std::strerror(code));
}

}  // namespace

struct WalSyncer::Impl {
  Impl(std::filesystem::path path, SyncFile sync, int fd, const struct stat& opened)
      : path(std::move(path)),
        sync(sync ? std::move(sync) : SyncFile(fdatasyncRetrying)),
        fd(fd),
        device(opened.st_dev),
        inode(opened.st_ino) {}

  ~Impl() {
    if (fd >= 0) {
      ::close(fd);
    }
  }

  Error syncFailure(std::string_view what, int code) const {
    return Error{"cannot sync the coordinator's WAL " + path.string() + " to disk (" +
                     std::string(what) + ": " + errnoText(code) +
                     "): what was written since the last sync may not be on disk, so no event "
                     "is acknowledged any more",
                 "check the disk (dmesg), then restart lifeboat-coordinator: SQLite recovers "
                 "what reached the disk and the agents resend everything not acknowledged"};
  }

  // One fdatasync of the file open, then of the file the path names now
  // when that is another one. The thread's own state; no lock.
  std::optional<Error> syncRound(bool& reopenedOne) {
    if (failure) {
      return failure;
    }
    if (const int code = sync(fd); code != 0) {
      failure = syncFailure("fdatasync", code);
      return failure;
    }
    struct stat now {};
    if (::stat(path.c_str(), &now) == 0 && now.st_dev == device && now.st_ino == inode) {
      return std::nullopt;
    }
    const int newer = openWal(path);
    if (newer < 0) {
      failure = syncFailure("the file is gone, open", errno);
      return failure;
    }
    struct stat opened {};
    if (::fstat(newer, &opened) != 0) {
      const int code = errno;
      ::close(newer);
      failure = syncFailure("fstat", code);
      return failure;
    }
    ::close(fd);
    fd = newer;
    device = opened.st_dev;
    inode = opened.st_ino;
    reopenedOne = true;
    if (const int code = sync(fd); code != 0) {
      failure = syncFailure("fdatasync", code);
      return failure;
    }
    return std::nullopt;
  }

  void loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return stopping || !pending.empty(); });
      if (pending.empty()) {
        return;  // stopping, and nothing waits
      }
      std::vector<Done> round;
      round.swap(pending);
      lock.unlock();
      bool reopenedOne = false;
      const std::optional<Error> error = syncRound(reopenedOne);
      for (Done& done : round) {
        done(error);
      }
      lock.lock();
      counts.callbacks += round.size();
      counts.syncs += error ? 0 : 1;
      counts.reopened += reopenedOne ? 1 : 0;
      counts.failed = error.has_value();
    }
  }

  const std::filesystem::path path;
  const SyncFile sync;
  // The thread's own (after start):
  int fd;
  dev_t device;
  ino_t inode;
  std::optional<Error> failure;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::vector<Done> pending;
  SyncStats counts;
  bool stopping = false;
  std::thread thread;
};

Result<std::unique_ptr<WalSyncer>> WalSyncer::start(const std::filesystem::path& walFile,
                                                    SyncFile sync) {
  const int fd = openWal(walFile);
  if (fd < 0) {
    const int code = errno;
    return Error{
        "cannot open the coordinator's WAL " + walFile.string() + " to sync it: " + errnoText(code),
        "the store must be open read-write in WAL mode before the syncer starts"};
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0) {
    const int code = errno;
    ::close(fd);
    return Error{"cannot fstat the coordinator's WAL " + walFile.string() + ": " + errnoText(code),
                 ""};
  }
  auto impl = std::make_unique<Impl>(walFile, std::move(sync), fd, opened);
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<WalSyncer>(new WalSyncer(std::move(impl)));
}

WalSyncer::WalSyncer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WalSyncer::~WalSyncer() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
}

void WalSyncer::after(Done done) {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->pending.push_back(std::move(done));
  }
  impl_->wake.notify_one();
}

SyncStats WalSyncer::stats() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->counts;
}

const std::filesystem::path& WalSyncer::file() const {
  return impl_->path;
}

}  // namespace lifeboat::store

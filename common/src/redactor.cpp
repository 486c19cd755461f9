#include "lifeboat/common/redactor.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

namespace lifeboat {

namespace detail {

// A half-open byte range [begin, end) of a text.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Aho-Corasick automaton over bytes. The root's transitions are a dense
// table; other nodes keep a short list of children (a trie node of secrets
// rarely has more than a few dozen), and missing transitions follow failure
// links at match time, which is amortised O(1) per input byte.
class RedactionAutomaton {
 public:
  explicit RedactionAutomaton(const std::vector<std::string>& patterns) {
    rootNext_.fill(kNoNode);
    nodes_.emplace_back();
    for (const std::string& pattern : patterns) {
      insert(pattern);
    }
    linkFailures();
  }

  // The occurrences of the patterns in `text`, overlapping ones merged, in
  // increasing order.
  std::vector<Span> find(std::string_view text) const {
    std::vector<Span> spans;
    std::int32_t state = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      state = next(state, static_cast<unsigned char>(text[i]));
      const std::size_t length = nodes_[static_cast<std::size_t>(state)].longestMatch;
      if (length == 0) {
        continue;
      }
      // Matches arrive in increasing end order; the longest match ending here
      // covers every shorter one ending here.
      Span span{i + 1 - length, i + 1};
      while (!spans.empty() && span.begin < spans.back().end) {
        span.begin = std::min(span.begin, spans.back().begin);
        spans.pop_back();
      }
      spans.push_back(span);
    }
    return spans;
  }

 private:
  static constexpr std::int32_t kNoNode = -1;

  struct Node {
    std::vector<std::pair<unsigned char, std::int32_t>> children;
    std::int32_t failure = 0;
    std::size_t ownLength = 0;     // length of the pattern ending here, 0 if none
    std::size_t longestMatch = 0;  // longest pattern that is a suffix of this node
  };

  std::int32_t child(std::int32_t node, unsigned char byte) const {
    if (node == 0) {
      return rootNext_[byte];
    }
    for (const auto& [label, target] : nodes_[static_cast<std::size_t>(node)].children) {
      if (label == byte) {
        return target;
      }
    }
    return kNoNode;
  }

  std::int32_t next(std::int32_t state, unsigned char byte) const {
    while (true) {
      const std::int32_t target = child(state, byte);
      if (target != kNoNode) {
        return target;
      }
      if (state == 0) {
        return 0;
      }
      state = nodes_[static_cast<std::size_t>(state)].failure;
    }
  }

  void insert(std::string_view pattern) {
    std::int32_t node = 0;
    for (const char character : pattern) {
      const auto byte = static_cast<unsigned char>(character);
      std::int32_t target = child(node, byte);
      if (target == kNoNode) {
        target = static_cast<std::int32_t>(nodes_.size());
        nodes_.emplace_back();
        if (node == 0) {
          rootNext_[byte] = target;
        }
        nodes_[static_cast<std::size_t>(node)].children.emplace_back(byte, target);
      }
      node = target;
    }
    Node& last = nodes_[static_cast<std::size_t>(node)];
    last.ownLength = std::max(last.ownLength, pattern.size());
  }

  // Breadth first, so a node's failure target is finished before the node.
  void linkFailures() {
    std::deque<std::int32_t> queue;
    for (const auto& [byte, target] : nodes_[0].children) {
      Node& node = nodes_[static_cast<std::size_t>(target)];
      node.failure = 0;
      node.longestMatch = node.ownLength;
      queue.push_back(target);
    }
    while (!queue.empty()) {
      const std::int32_t parent = queue.front();
      queue.pop_front();
      for (const auto& [byte, target] : nodes_[static_cast<std::size_t>(parent)].children) {
        const std::int32_t failure = next(nodes_[static_cast<std::size_t>(parent)].failure, byte);
        Node& node = nodes_[static_cast<std::size_t>(target)];
        node.failure = failure;
        node.longestMatch =
            std::max(node.ownLength, nodes_[static_cast<std::size_t>(failure)].longestMatch);
        queue.push_back(target);
      }
    }
  }

  std::vector<Node> nodes_;
  std::array<std::int32_t, 256> rootNext_{};
};

}  // namespace detail

namespace {

// Appends text[from, to) to `out` with the spans (clipped to the range)
// replaced by the mask.
void appendRedacted(std::string& out, std::string_view text, std::size_t from, std::size_t to,
                    const std::vector<detail::Span>& spans) {
  std::size_t position = from;
  for (const detail::Span& span : spans) {
    if (span.end <= position) {
      continue;
    }
    const std::size_t begin = std::max(span.begin, position);
    if (begin >= to) {
      break;
    }
    out.append(text.substr(position, begin - position));
    out.append(Redactor::kMask);
    position = std::min(span.end, to);
  }
  if (position < to) {
    out.append(text.substr(position, to - position));
  }
}

}  // namespace

struct Redactor::Cache {
  std::mutex mutex;
  std::shared_ptr<const detail::RedactionAutomaton> automaton;
};

Redactor::Redactor() : cache_(std::make_shared<Cache>()) {}

bool Redactor::add(std::string_view secret) {
  if (secret.empty()) {
    return true;
  }
  if (secret.size() < kMinimumLength) {
    return false;
  }
  insert(secret);
  if (secret.find('\n') != std::string_view::npos) {
    std::size_t start = 0;
    while (start <= secret.size()) {
      std::size_t end = secret.find('\n', start);
      if (end == std::string_view::npos) {
        end = secret.size();
      }
      std::string_view line = secret.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (line.size() >= kMinimumLength) {
        insert(line);
      }
      start = end + 1;
    }
  }
  cache_ = std::make_shared<Cache>();
  return true;
}

void Redactor::insert(std::string_view value) {
  secrets_.emplace_back(value);
  longest_ = std::max(longest_, value.size());
}

std::shared_ptr<const detail::RedactionAutomaton> Redactor::automaton() const {
  if (secrets_.empty()) {
    return nullptr;
  }
  if (!cache_) {  // a moved-from Redactor: build without caching
    return std::make_shared<const detail::RedactionAutomaton>(secrets_);
  }
  const std::lock_guard lock(cache_->mutex);
  if (!cache_->automaton) {
    cache_->automaton = std::make_shared<const detail::RedactionAutomaton>(secrets_);
  }
  return cache_->automaton;
}

std::string Redactor::redact(std::string_view text) const {
  const std::shared_ptr<const detail::RedactionAutomaton> matcher = automaton();
  if (!matcher) {
    return std::string(text);
  }
  const std::vector<detail::Span> spans = matcher->find(text);
  std::string out;
  out.reserve(text.size());
  appendRedacted(out, text, 0, text.size(), spans);
  return out;
}

ChunkRedactor::ChunkRedactor(const Redactor& redactor)
    : automaton_(redactor.automaton()), longest_(redactor.longestSecret()) {}

std::string ChunkRedactor::push(std::string_view chunk) {
  if (!automaton_) {
    return std::string(chunk);
  }
  pending_.append(chunk);
  return emit(pending_, pending_.size(), false);
}

std::string ChunkRedactor::finish() {
  if (!automaton_) {
    return {};
  }
  std::string out = emit(pending_, pending_.size(), true);
  pending_.clear();
  context_ = 0;
  return out;
}

std::string ChunkRedactor::emit(std::string_view buffer, std::size_t size, bool flushAll) {
  const std::vector<detail::Span> spans = automaton_->find(buffer.substr(0, size));
  const std::size_t keep = longest_ - 1;
  std::size_t safe = size;
  if (!flushAll) {
    // No occurrence that starts before `cut` can still be incomplete: it
    // would be longer than the longest secret.
    const std::size_t cut = std::max(size > keep ? size - keep : 0, context_);
    safe = cut;
    for (const detail::Span& span : spans) {
      if (span.begin < cut && cut < span.end) {
        // A complete run of occurrences crosses the cut: a later occurrence
        // may still overlap it, so hold it back whole, unless it has grown
        // too long; then mask it up to its end and keep its tail as context.
        const std::size_t start = std::max(span.begin, context_);
        safe = size - start > kMaxHeldBack + keep ? span.end : start;
        break;
      }
    }
  }
  std::string out;
  appendRedacted(out, buffer, context_, safe, spans);
  if (!flushAll) {
    const std::size_t newStart = safe > keep ? safe - keep : 0;
    pending_.erase(0, newStart);
    context_ = safe - newStart;
  }
  return out;
}

}  // namespace lifeboat

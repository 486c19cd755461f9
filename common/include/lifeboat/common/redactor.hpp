#pragma once
// Secret redaction: no secret value may appear in any output, log, event,
// journal or report (DESIGN.md). A Redactor holds the resolved secret values
// of a run and replaces every occurrence of them in a text with "[redacted]";
// a ChunkRedactor does the same for data that arrives in pieces (the output
// of a child process).
//
// Matching uses an Aho-Corasick automaton over bytes: building it costs
// O(total bytes of all secrets) (times the small fan-out of a trie node), and
// redacting a text of n bytes costs O(n + number of matches), independent of
// how many secrets are registered. The automaton is built on the first
// redact() after an add().

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lifeboat {

namespace detail {
class RedactionAutomaton;
}

class Redactor {
 public:
  // What every occurrence of a secret is replaced with.
  static constexpr std::string_view kMask = "[redacted]";
  // Values shorter than this are refused: masking "ab" everywhere would
  // destroy the output and still not hide much.
  static constexpr std::size_t kMinimumLength = 4;

  Redactor();

  // Registers `secret`. Returns false, registering nothing, when the value is
  // 1 to 3 bytes long: the caller should warn that it cannot be redacted.
  // An empty value has nothing to hide: it is ignored and true is returned.
  // A multi-line value (a PEM key, say) is registered whole and, in addition,
  // each of its lines of at least kMinimumLength bytes (a trailing '\r'
  // removed), so that a single line quoted in an output is redacted too.
  bool add(std::string_view secret);

  // `text` with every occurrence of every registered value replaced by kMask.
  // Overlapping or nested occurrences (of one or of several values) form one
  // span, masked once, so no byte of any of them survives; occurrences that
  // merely touch are masked separately.
  //
  // Thread safety: any number of threads may call redact(), empty() and
  // longestSecret() at once, provided no thread calls add() meanwhile (add
  // the secrets first, then share the Redactor).
  std::string redact(std::string_view text) const;

  bool empty() const { return secrets_.empty(); }
  // Bytes of the longest registered value (0 when empty).
  std::size_t longestSecret() const { return longest_; }

 private:
  friend class ChunkRedactor;
  struct Cache;

  std::shared_ptr<const detail::RedactionAutomaton> automaton() const;
  void insert(std::string_view value);

  std::vector<std::string> secrets_;
  std::size_t longest_ = 0;
  // Built lazily, shared by copies made from the same set of secrets; add()
  // replaces it.
  std::shared_ptr<Cache> cache_;
};

// Redacts a stream that arrives in arbitrary chunks, so that a secret split
// across chunks is still masked. It keeps back the last (longest secret - 1)
// bytes, and longer while a run of overlapping occurrences may still be
// growing (up to kMaxHeldBack bytes, after which the run is masked in parts;
// no byte of a secret is ever emitted). Concatenating everything push() and
// finish() return gives the same text as Redactor::redact() of the whole
// stream, except that such an over-long run is masked as several spans.
// Each push() costs O(chunk + bytes held back).
//
// It takes a snapshot of the Redactor's secrets when constructed: later add()
// calls do not affect it, and the Redactor may be destroyed first. One
// ChunkRedactor serves one stream from one thread at a time.
class ChunkRedactor {
 public:
  static constexpr std::size_t kMaxHeldBack = 64 * 1024;

  explicit ChunkRedactor(const Redactor& redactor);

  // What of the stream so far is safe to emit (may be empty).
  std::string push(std::string_view chunk);
  // The rest of the stream, redacted; the ChunkRedactor may then start over.
  std::string finish();

 private:
  std::string emit(std::string_view buffer, std::size_t end, bool flushAll);

  std::shared_ptr<const detail::RedactionAutomaton> automaton_;
  std::size_t longest_ = 0;
  // Raw bytes not yet emitted, preceded by `context_` bytes that were already
  // emitted but that an occurrence continuing into new data may start in.
  std::string pending_;
  std::size_t context_ = 0;
};

}  // namespace lifeboat

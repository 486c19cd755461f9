// libFuzzer target for the whole runbook load path: input guard, toml++
// (compiled header-only in the fuzz build so that it is instrumented too),
// the typed model and validation. Run it with scripts/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lifeboat/common/diagnostics.hpp"
#include "lifeboat/runbook/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // No plugin describer: plugin parameters are not checked (load.hpp).
  const lifeboat::runbook::LoadOptions options;
  lifeboat::DiagnosticSink sink;
  const auto runbook = lifeboat::runbook::loadRunbook(text, "fuzz.toml", options, sink);

  // loadRunbook's contract: a runbook exactly when no error was reported.
  if (runbook.has_value() == sink.hasErrors()) {
    __builtin_trap();
  }
  // Every diagnostic must be printable, locations included.
  for (const lifeboat::Diagnostic& diagnostic : sink.all()) {
    if (lifeboat::formatDiagnostic("fuzz.toml", diagnostic).empty()) {
      __builtin_trap();
    }
  }
  return 0;
}

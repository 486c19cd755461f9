#pragma once
// `lifeboat-coordinator` and its commands (docs/coordinator.md, "Commands"):
// serve, check, certs init, token. main() only calls this.

#include <ostream>
#include <span>
#include <string>

namespace lifeboat::coordinator {

// `args` are the words after the program's name. `out` gets what the
// command produces (serve: the "listening: …" line once ready), `err` the
// log and problems. Returns the exit code: 0 ok, 1 runtime failure, 2
// invalid config or usage.
int runCoordinator(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace lifeboat::coordinator

#pragma once
// The machine's name, for events (the agent's name) and lock holders.

#include <string>

namespace lifeboat {

// gethostname(), or "unknown-host" when it fails or is empty.
std::string hostName();

}  // namespace lifeboat

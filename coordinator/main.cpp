// lifeboat-coordinator: receives the agents' event streams, stores them and
// serves the API and the dashboard (docs/coordinator.md).
#include <iostream>
#include <string>
#include <vector>

#include "lifeboat/coordinator/commands.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return lifeboat::coordinator::runCoordinator(args, std::cout, std::cerr);
}

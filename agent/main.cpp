// `lifeboat`: the agent. main only wires the command line to the library.
#include "lifeboat/cli/app.hpp"

int main(int argc, char** argv) {
  return lifeboat::cli::run(argc, argv);
}

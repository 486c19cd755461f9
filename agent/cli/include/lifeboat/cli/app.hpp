#pragma once
// The `lifeboat` command line: parses arguments and runs one subcommand.
// Exit codes (README "Exit codes"): 0 ok, 2 invalid input or usage.

namespace lifeboat::cli {

int run(int argc, char** argv);

}  // namespace lifeboat::cli

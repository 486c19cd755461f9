#pragma once
// The `file` plugin's actions. Every path param is relative to the target's
// `root` and confined to it (see confined_root.hpp).

#include "lifeboat/plugin_sdk/plugin.hpp"

namespace lifeboat::file_plugin {

using plugin_sdk::ActionResult;
using plugin_sdk::Reporter;
using plugin_sdk::Request;

// Atomic write: temporary file, fsync, rename over `path`, fsync the directory.
Result<ActionResult> writeFile(const Request& request, Reporter& reporter);
// rename(2) of `from` to `to`, refusing to replace `to` unless `overwrite`.
Result<ActionResult> moveFile(const Request& request, Reporter& reporter);
// Probe: ok when `path` exists (or not) and contains `contains`.
Result<ActionResult> checkFile(const Request& request, Reporter& reporter);
// Removes a file, symlink or empty directory.
Result<ActionResult> removeFile(const Request& request, Reporter& reporter);

}  // namespace lifeboat::file_plugin

#pragma once
// The `dns` plugin's actions. Every value that reaches nsupdate or dig passed
// checkRequestValues (names.hpp) first.

#include "lifeboat/plugin_sdk/plugin.hpp"

namespace lifeboat::dns_plugin {

using plugin_sdk::ActionResult;
using plugin_sdk::Reporter;
using plugin_sdk::Request;

// Replaces the RRset of `type` at `name` with one record.
Result<ActionResult> setRecord(const Request& request, Reporter& reporter);
// Deletes the RRset of `type` at `name`.
Result<ActionResult> deleteRecord(const Request& request, Reporter& reporter);
// Probe: the server answers exactly `value` (or nothing with absent).
Result<ActionResult> verifyRecord(const Request& request, Reporter& reporter);

}  // namespace lifeboat::dns_plugin

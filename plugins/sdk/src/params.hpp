#pragma once
// Checks given parameters against a declared schema (internal to the SDK).

#include <boost/json/object.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/common/plugin_protocol.hpp"
#include "lifeboat/common/result.hpp"

namespace lifeboat::plugin_sdk::detail {

// Returns the declared parameters of `given` with defaults filled in, or an
// Error listing every problem: unknown names (with a suggestion), missing
// required ones, wrong types, values outside `allowed`, bad durations. Names in
// `ignored` are accepted and dropped. `what` names the owner in messages
// ("action 'write'", "target"). A secret parameter's value never appears.
Result<boost::json::object> checkParams(const boost::json::object& given,
                                        const std::vector<plugin::ParamSchema>& schema,
                                        std::string_view what,
                                        std::span<const std::string_view> ignored = {});

// The string values of the parameters declared secret (strings and string
// arrays), for redaction.
void collectSecrets(const boost::json::object& checked,
                    const std::vector<plugin::ParamSchema>& schema,
                    std::vector<std::string>& secrets);

}  // namespace lifeboat::plugin_sdk::detail

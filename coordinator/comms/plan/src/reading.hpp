#pragma once
// Helpers shared by the readers of the plan's tables (parse.cpp,
// read_channels.cpp). Internal to lifeboat_comms_plan.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifeboat/comms/plan.hpp"
#include "lifeboat/config/table_reader.hpp"

namespace lifeboat::comms::detail {

// A name written in an array, with where it was written.
struct NameAt {
  std::string name;
  SourceLocation where{};
};

// An array of non-empty strings at `key`, each with its location; nullopt
// (reported) when it is missing but required or is not such an array.
std::optional<std::vector<NameAt>> namesAt(config::TableReader& reader, std::string_view key,
                                           bool required);
std::vector<std::string> plainNames(const std::vector<NameAt>& names);

// A table name of the plan ([channels.NAME], [audiences.NAME], ...): 1-64
// letters, digits, '_' or '-'. Reports and returns false otherwise.
bool checkName(std::string_view what, const std::string& name, SourceLocation where,
               DiagnosticSink& sink);

// "unknown <what> 'name' in <context>" with a did-you-mean among
// `candidates`, else a hint listing them (or `none` when there are none).
void reportUnknown(DiagnosticSink& sink, SourceLocation where, std::string_view what,
                   std::string_view name, std::string_view context,
                   const std::vector<std::string>& candidates, std::string_view none);

template <class Map>
std::vector<std::string> keysOf(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) {
    keys.push_back(key);
  }
  return keys;
}

// local@domain, without spaces, control characters or the characters that
// would let an address carry a header or a second address.
bool isEmailAddress(std::string_view text);

// Reports a name written twice in one list; true when there were none.
bool checkNoDuplicates(const std::vector<NameAt>& names, std::string_view key,
                       std::string_view context, DiagnosticSink& sink);

void readChannels(const config::Node& channels, Plan& plan, DiagnosticSink& sink);

}  // namespace lifeboat::comms::detail

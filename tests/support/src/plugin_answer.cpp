#include "lifeboat/test_support/plugin_answer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace lifeboat::test_support {

bool PluginAnswer::ok() const {
  return final.contains("ok") && final.at("ok") == true;
}

std::string PluginAnswer::text(std::string_view member) const {
  const boost::json::value* value = final.if_contains(member);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

const boost::json::value& PluginAnswer::output(std::string_view name) const {
  return final.at("outputs").at(name);
}

std::string PluginAnswer::outputText(std::string_view name) const {
  const boost::json::value& value = output(name);
  return value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value);
}

double PluginAnswer::rpoSeconds() const {
  return final.at("measurements").at("rpo_seconds").to_number<double>();
}

PluginAnswer askPlugin(const std::string& executable, const boost::json::object& request) {
  PluginAnswer answer;
  answer.process = runProcess({executable}, boost::json::serialize(request));
  boost::system::error_code code;
  boost::json::value last = boost::json::parse(answer.process.lastLine(), code);
  if (!code && last.is_object()) {
    answer.final = last.get_object();
  }
  return answer;
}

}  // namespace lifeboat::test_support

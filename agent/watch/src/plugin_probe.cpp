// The plugin probe: the target's plugin runs the trigger's action with op
// "check" (docs/plugins.md); healthy when it answers ok.
#include "lifeboat/steps/step.hpp"
#include "probe_kinds.hpp"

namespace lifeboat::watch::probes {

Verdict checkPlugin(const runbook::Trigger& trigger, const ProbeContext& context,
                    std::string_view name) {
  if (context.runner == nullptr) {
    return {false, "no process runner to start a plugin", true};
  }
  const runbook::Target* target = context.findTarget ? context.findTarget(trigger.target) : nullptr;
  if (target == nullptr) {
    return {false, "target '" + trigger.target + "' is not in the runbook", true};
  }
  if (target->plugin.empty()) {
    return {false, "target '" + trigger.target + "' has no plugin", true};
  }
  std::optional<std::filesystem::path> executable =
      context.locatePlugin ? context.locatePlugin(target->plugin) : std::nullopt;
  if (!executable) {
    return {false,
            "plugin '" + target->plugin + "' (target '" + trigger.target +
                "') was not found in the plugins directories",
            true};
  }

  steps::PluginCall call;
  call.executable = std::move(*executable);
  call.op = "check";
  call.action = trigger.action;
  call.target = target->fields;
  call.params = trigger.with;
  call.context = boost::json::object{{"step", name}, {"drill", false}};

  static const Redactor kNoSecrets;
  steps::Services services;
  services.runner = context.runner;
  services.cancel = context.cancel;
  services.redactor = context.redactor != nullptr ? context.redactor : &kNoSecrets;
  services.childEnvironment = context.childEnvironment;
  services.killGrace = context.killGrace;
  // Progress lines and stderr are not kept: the detail says what counts.
  const steps::StepOutcome outcome = steps::runPlugin(call, trigger.timeout, services);
  switch (outcome.status) {
    case steps::Status::ok:
      return {true, "ok"};
    case steps::Status::timedOut:
      return {false, timedOutDetail(trigger.timeout)};
    case steps::Status::cancelled:
      return {false, "cancelled"};
    case steps::Status::failed:
      break;
  }
  // Already redacted by runPlugin; cut to a line's worth. Exit status 2 is
  // the plugin refusing the request before doing anything (docs/plugins.md):
  // the check is misconfigured, the service may be fine.
  const bool refused = outcome.exitCode == 2;
  return {false, clip(outcome.error, 2 * kMaxQuotedBytes), refused};
}

}  // namespace lifeboat::watch::probes

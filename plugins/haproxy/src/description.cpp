#include "description.hpp"

namespace lifeboat::haproxy_plugin {

using plugin::ActionSchema;
using plugin::ParamSchema;
using plugin::ParamType;

namespace {

ParamSchema serverParam(std::string name, std::string description) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::string,
                     .required = true,
                     .description = std::move(description)};
}

}  // namespace

plugin::PluginDescription describeHaproxyPlugin() {
  plugin::PluginDescription description;
  description.name = "haproxy";
  description.version = LIFEBOAT_VERSION;
  description.description =
      "Switches traffic between the servers of one HAProxy backend through HAProxy's runtime "
      "API (its stats socket at level admin).";
  description.targetParams = {
      ParamSchema{.name = "socket",
                  .type = ParamType::string,
                  .required = true,
                  .description = "Path of HAProxy's runtime API socket ('stats socket PATH "
                                 "mode 600 level admin' in haproxy.cfg)."},
      ParamSchema{.name = "backend",
                  .type = ParamType::string,
                  .required = true,
                  .description = "Name of the backend whose servers the actions manage."},
      ParamSchema{.name = "timeout",
                  .type = ParamType::duration,
                  .description = "Limit for each runtime-API command, connect to last byte.",
                  .defaultValue = "\"2s\""},
  };

  ActionSchema status{
      .name = "status",
      .description = "Reports the backend's servers and which of them take new connections.",
      .outputs =
          {
              {"servers",
               "Object: server name -> {address, port, admin (ready, maint, drain), "
               "operational (up, down, starting, stopping), check}."},
              {"active", "Names of the servers that are ready and up, in backend order."},
          },
      .probe = true,
  };
  ActionSchema switchTo{
      .name = "switch",
      .description =
          "Makes `to` the only server taking traffic: sets it ready, waits until its health "
          "check passes, then puts every other server in `others` state (maint also closes "
          "their open sessions). Already switched is success.",
      .params =
          {
              serverParam("to", "The server that should take the traffic."),
              ParamSchema{.name = "others",
                          .type = ParamType::string,
                          .description = "State for the backend's other servers: maint (no "
                                         "traffic, sessions closed) or drain (existing "
                                         "sessions finish).",
                          .defaultValue = "\"maint\"",
                          .allowed = {"maint", "drain"}},
              ParamSchema{.name = "wait_up",
                          .type = ParamType::duration,
                          .description = "How long `to` may take to pass its health check.",
                          .defaultValue = "\"5s\""},
          },
      .outputs =
          {
              {"previous", "Servers that were active before (array of names)."},
              {"active", "Servers active afterwards (array of names)."},
              {"switched_at", "When the other servers were taken out (UTC, RFC 3339)."},
          },
      .undoneBy = "switch",
  };
  ActionSchema drain{
      .name = "drain",
      .description = "Puts a server in drain state: no new connections, existing ones finish.",
      .params = {serverParam("server", "The server to drain.")},
      .outputs = {{"server", "The server."}, {"admin", "Its administrative state afterwards."}},
  };
  ActionSchema setAddress{
      .name = "set_address",
      .description =
          "Points a server at another address and port (e.g. a drill backend at an "
          "isolated copy).",
      .params =
          {
              serverParam("server", "The server to change."),
              ParamSchema{.name = "address",
                          .type = ParamType::string,
                          .required = true,
                          .description = "New IPv4 or IPv6 address (numeric)."},
              ParamSchema{.name = "port",
                          .type = ParamType::integer,
                          .required = true,
                          .description = "New port, 1 to 65535."},
          },
      .outputs =
          {
              {"server", "The server."},
              {"address", "Its address afterwards."},
              {"port", "Its port afterwards."},
              {"previous_address", "Its address before."},
              {"previous_port", "Its port before."},
          },
  };
  ActionSchema disable{
      .name = "disable",
      .description = "Puts a server in maintenance and closes its open sessions.",
      .params = {serverParam("server", "The server to take out.")},
      .outputs = {{"server", "The server."}, {"admin", "Its administrative state afterwards."}},
  };
  ActionSchema verify{
      .name = "verify",
      .description =
          "Succeeds only when `active` is ready (and up, with require_up) and no "
          "other server of the backend is ready.",
      .params =
          {
              serverParam("active", "The server that should be the only one serving."),
              ParamSchema{.name = "require_up",
                          .type = ParamType::boolean,
                          .description = "Also require `active` to be up by its health check.",
                          .defaultValue = "true"},
          },
      .outputs =
          {
              {"servers", "As for status."},
              {"active", "As for status."},
          },
      .probe = true,
  };
  description.actions = {std::move(status),     std::move(switchTo), std::move(drain),
                         std::move(setAddress), std::move(disable),  std::move(verify)};
  return description;
}

}  // namespace lifeboat::haproxy_plugin

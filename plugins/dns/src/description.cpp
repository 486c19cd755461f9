#include "description.hpp"

namespace lifeboat::dns_plugin {

using plugin::ActionSchema;
using plugin::ParamSchema;
using plugin::ParamType;

namespace {

ParamSchema nameParam() {
  return ParamSchema{.name = "name",
                     .type = ParamType::string,
                     .required = true,
                     .description =
                         "Record name: relative to the zone (\"db\"), \"@\" for the "
                         "zone itself, or a fully qualified name inside the zone."};
}

ParamSchema typeParam() {
  return ParamSchema{.name = "type",
                     .type = ParamType::string,
                     .description = "Record type.",
                     .defaultValue = "\"A\"",
                     .allowed = {"A", "AAAA", "CNAME", "TXT"}};
}

ParamSchema stringTarget(std::string name, bool required, std::string description,
                         std::string fallback = {}) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::string,
                     .required = required,
                     .description = std::move(description),
                     .defaultValue = std::move(fallback)};
}

}  // namespace

plugin::PluginDescription describeDnsPlugin() {
  plugin::PluginDescription description;
  description.name = "dns";
  description.version = LIFEBOAT_VERSION;
  description.description =
      "Changes records of one zone with RFC 2136 dynamic updates signed with TSIG (nsupdate) "
      "and checks what the primary name server answers (dig).";
  description.targetParams = {
      stringTarget("server", true, "IPv4 or IPv6 address of the zone's primary name server."),
      ParamSchema{.name = "port",
                  .type = ParamType::integer,
                  .description = "The name server's port (UDP for queries, TCP for updates).",
                  .defaultValue = "53"},
      stringTarget("zone", true, "The zone to update, e.g. \"example.com\"."),
      stringTarget("key_name", true, "Name of the TSIG key allowed to update the zone."),
      ParamSchema{.name = "key_secret",
                  .type = ParamType::string,
                  .required = true,
                  .secret = true,
                  .description = "The TSIG key's secret, base64 (as in the server's key "
                                 "statement). Passed to nsupdate on stdin only."},
      ParamSchema{.name = "key_algorithm",
                  .type = ParamType::string,
                  .description = "The TSIG key's algorithm.",
                  .defaultValue = "\"hmac-sha256\"",
                  .allowed = {"hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224",
                              "hmac-sha1", "hmac-md5"}},
      stringTarget("nsupdate", false, "Path of nsupdate.", "\"/usr/bin/nsupdate\""),
      stringTarget("dig", false, "Path of dig.", "\"/usr/bin/dig\""),
      ParamSchema{.name = "timeout",
                  .type = ParamType::duration,
                  .description = "Network timeout of each query and of the update.",
                  .defaultValue = "\"5s\""},
  };

  ActionSchema setRecord{
      .name = "set_record",
      .description =
          "Replaces the records of `type` at `name` with the one record `value`, in "
          "one update message (the server applies it atomically).",
      .params =
          {
              nameParam(),
              typeParam(),
              ParamSchema{.name = "value",
                          .type = ParamType::string,
                          .required = true,
                          .description = "The new record data: an IPv4 address (A), an IPv6 "
                                         "address (AAAA), a host name (CNAME) or text (TXT)."},
              ParamSchema{.name = "ttl",
                          .type = ParamType::integer,
                          .description = "Time to live of the new record, in seconds.",
                          .defaultValue = "30"},
          },
      .outputs =
          {
              {"fqdn", "The record's fully qualified name (no final dot)."},
              {"previous", "The record data the server answered before (array)."},
              {"value", "The record data now set."},
          },
      .undoneBy = "set_record",
  };
  ActionSchema deleteRecord{
      .name = "delete_record",
      .description = "Deletes every record of `type` at `name`.",
      .params = {nameParam(), typeParam()},
      .outputs =
          {
              {"fqdn", "The record's fully qualified name."},
              {"previous", "The record data the server answered before (array)."},
              {"removed", "Whether there was something to delete."},
          },
  };
  ActionSchema verify{
      .name = "verify",
      .description =
          "Asks the server (no recursion) and succeeds when the answer is exactly "
          "`value`, or nothing with absent = true, or anything without either.",
      .params =
          {
              nameParam(),
              typeParam(),
              ParamSchema{.name = "value",
                          .type = ParamType::string,
                          .description = "The only record data expected."},
              ParamSchema{.name = "absent",
                          .type = ParamType::boolean,
                          .description = "Expect no record of `type` at `name`.",
                          .defaultValue = "false"},
          },
      .outputs =
          {
              {"fqdn", "The record's fully qualified name."},
              {"answers", "The record data the server answered (array, sorted)."},
          },
      .probe = true,
  };
  description.actions = {std::move(setRecord), std::move(deleteRecord), std::move(verify)};
  return description;
}

}  // namespace lifeboat::dns_plugin

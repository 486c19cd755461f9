#include "description.hpp"

namespace lifeboat::file_plugin {

using plugin::ActionSchema;
using plugin::ParamSchema;
using plugin::ParamType;

namespace {

ParamSchema pathParam(std::string name, std::string description) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::string,
                     .required = true,
                     .description = std::move(description)};
}

ParamSchema flagParam(std::string name, bool fallback, std::string description) {
  return ParamSchema{.name = std::move(name),
                     .type = ParamType::boolean,
                     .description = std::move(description),
                     .defaultValue = fallback ? "true" : "false"};
}

}  // namespace

plugin::PluginDescription describeFilePlugin() {
  plugin::PluginDescription description;
  description.name = "file";
  description.version = LIFEBOAT_VERSION;
  description.description =
      "Writes, moves, checks and removes files inside one directory (the target's root); "
      "paths never leave it.";
  description.targetParams = {
      ParamSchema{.name = "root",
                  .type = ParamType::string,
                  .required = true,
                  .description = "Absolute path of an existing directory; every path param is "
                                 "relative to it and confined to it."},
  };

  ActionSchema write{
      .name = "write",
      .description =
          "Writes `content` to `path` atomically (temporary file, fsync, rename, "
          "fsync of the directory), creating missing parent directories.",
      .params =
          {
              pathParam("path", "File to write, relative to root."),
              ParamSchema{.name = "content",
                          .type = ParamType::string,
                          .required = true,
                          .description = "The file's new content."},
              ParamSchema{.name = "mode",
                          .type = ParamType::string,
                          .description = "Permission bits in octal, e.g. \"0600\".",
                          .defaultValue = "\"0644\""},
              flagParam("overwrite", true, "Replace the file if it exists."),
          },
      .outputs =
          {
              {"path", "Absolute path of the written file."},
              {"bytes", "Number of bytes written."},
              {"sha256", "SHA-256 of the content, lower-case hex."},
          },
      .undoneBy = "remove",
  };
  ActionSchema move{
      .name = "move",
      .description =
          "Renames `from` to `to` (both inside root), creating missing parent "
          "directories of `to`.",
      .params =
          {
              pathParam("from", "Existing file or directory, relative to root."),
              pathParam("to", "New name, relative to root."),
              flagParam("overwrite", false, "Replace `to` if it exists."),
          },
      .outputs = {{"path", "Absolute path of the moved file (the new name)."}},
      .undoneBy = "move",
  };
  ActionSchema check{
      .name = "check",
      .description =
          "Succeeds when `path` exists (or, with exists = false, does not) and, if "
          "`contains` is given, the file contains that text. Changes nothing.",
      .params =
          {
              pathParam("path", "File or directory to look at, relative to root."),
              flagParam("exists", true, "Whether the path is expected to exist."),
              ParamSchema{.name = "contains",
                          .type = ParamType::string,
                          .description = "Text the file must contain (needs exists = true)."},
          },
      .outputs =
          {
              {"path", "Absolute path that was checked."},
              {"exists", "Whether the path exists."},
              {"bytes", "Size of the file, when it is a regular file."},
              {"sha256", "SHA-256 of the file, when it is a regular file."},
          },
      .probe = true,
  };
  ActionSchema remove{
      .name = "remove",
      .description = "Removes a file, symbolic link or empty directory.",
      .params =
          {
              pathParam("path", "What to remove, relative to root."),
              flagParam("missing_ok", true, "Succeed when the path does not exist."),
          },
      .outputs = {{"removed", "Whether something was removed."}},
  };
  description.actions = {std::move(check), std::move(move), std::move(remove), std::move(write)};
  return description;
}

}  // namespace lifeboat::file_plugin

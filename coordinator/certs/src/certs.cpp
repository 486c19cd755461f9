#include "lifeboat/coordinator/certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "lifeboat/common/read_file.hpp"
#include "lifeboat/common/result.hpp"
#include "lifeboat/net/certificates.hpp"
#include "lifeboat/net/openssl_ptr.hpp"

namespace lifeboat::coordinator {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProgram = "lifeboat-coordinator";
constexpr const char* kCaName = "Lifeboat development CA";
constexpr const char* kCoordinatorName = "lifeboat-coordinator";
// Every coordinator certificate names these, so that a local agent reaches
// it by name or address without a --host.
const std::vector<std::string> kLocalNames = {"localhost", "127.0.0.1", "::1"};

constexpr const char* kUsage =
    "usage: lifeboat-coordinator certs init DIR [--agent NAME]... [--host NAME]...\n"
    "  Makes a development CA (DIR/ca.pem, ca-key.pem), the coordinator's certificate\n"
    "  (coordinator.pem, coordinator-key.pem; for localhost, 127.0.0.1, ::1 and each\n"
    "  --host) and one client certificate per agent (agent-NAME.pem, agent-NAME-key.pem).\n"
    "  Files already in DIR are kept; running it again adds what is missing.\n";

struct InitOptions {
  fs::path dir;
  std::vector<std::string> agents;
  std::vector<std::string> hosts;
};

struct UsageError {
  std::string message;
  std::string hint;
};

void printError(std::ostream& err, const std::string& message, const std::string& hint) {
  err << kProgram << ": error: " << message << '\n';
  if (!hint.empty()) {
    err << "  hint: " << hint << '\n';
  }
}

bool validAgentName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!allowed) {
      return false;
    }
  }
  // "." and ".." would make file names that look like paths to a reader.
  return name != "." && name != "..";
}

void addOnce(std::vector<std::string>& list, const std::string& value) {
  for (const std::string& present : list) {
    if (present == value) {
      return;
    }
  }
  list.push_back(value);
}

// `words` are the ones after "init".
std::variant<InitOptions, UsageError> parseInit(std::span<const std::string> words) {
  InitOptions options;
  bool haveDir = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    std::optional<std::string> agent;
    std::optional<std::string> host;
    auto valueOf = [&](const std::string& flag) -> std::optional<std::string> {
      if (word == flag) {
        if (i + 1 >= words.size()) {
          return std::nullopt;
        }
        return words[++i];
      }
      return word.substr(flag.size() + 1);
    };
    if (word == "--agent" || word.starts_with("--agent=")) {
      agent = valueOf("--agent");
      if (!agent) {
        return UsageError{"--agent needs a name", "--agent db-eu-1"};
      }
    } else if (word == "--host" || word.starts_with("--host=")) {
      host = valueOf("--host");
      if (!host) {
        return UsageError{"--host needs a host name or IP address",
                          "--host coordinator.example.org"};
      }
    } else if (word.starts_with("-")) {
      return UsageError{"unknown option " + word, ""};
    } else if (haveDir) {
      return UsageError{"more than one DIR: " + options.dir.string() + " and " + word,
                        "give one folder; name agents with --agent NAME"};
    } else {
      options.dir = word;
      haveDir = true;
    }
    if (agent) {
      if (!validAgentName(*agent)) {
        return UsageError{
            "agent name '" + *agent + "' is not 1-64 letters, digits, '.', '-' or '_'",
            "use the agent's host name, e.g. --agent db-eu-1"};
      }
      addOnce(options.agents, *agent);
    }
    if (host) {
      if (Result<bool> valid = net::checkAlternativeName(*host); !valid) {
        return UsageError{"--host " + valid.error().message, valid.error().hint};
      }
      addOnce(options.hosts, *host);
    }
  }
  if (!haveDir || options.dir.empty()) {
    return UsageError{"certs init needs the folder to write into", ""};
  }
  return options;
}

using CertificatePtr = net::OpenSslPtr<X509, X509_free>;
using BioPtr = net::OpenSslPtr<BIO, BIO_free>;
using KeyPtr = net::OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;

CertificatePtr parseCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertificatePtr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                 : nullptr);
  ERR_clear_error();
  return certificate;
}

Result<std::string> readPem(const fs::path& file) {
  FileRead read = readFile(file, ReadFileOptions{.maxBytes = 1 << 20, .requireRegularFile = true});
  if (read.status != FileRead::Status::ok) {
    const std::string why = read.status == FileRead::Status::systemError
                                ? std::strerror(read.error)
                                : "not a regular file of at most 1 MiB";
    return Error{"cannot read " + file.string() + ": " + why,
                 "check the file's permissions, or move it away to make a new one"};
  }
  return std::move(read.contents);
}

enum class PairState { missing, present };

// Both files of a pair or neither; one alone is an error naming the other.
Result<PairState> pairState(const fs::path& certificate, const fs::path& key) {
  std::error_code error;
  const bool haveCertificate = fs::exists(certificate, error);
  const bool haveKey = fs::exists(key, error);
  if (haveCertificate && haveKey) {
    return PairState::present;
  }
  if (!haveCertificate && !haveKey) {
    return PairState::missing;
  }
  const fs::path& there = haveCertificate ? certificate : key;
  const fs::path& absent = haveCertificate ? key : certificate;
  return Error{there.string() + " exists but " + absent.string() + " does not",
               "restore " + absent.filename().string() + ", or remove " +
                   there.filename().string() + " to have both made anew"};
}

bool isAddress(const std::string& host) {
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(host.c_str());
  ERR_clear_error();
  ASN1_OCTET_STRING_free(address);
  return address != nullptr;
}

// Notes on a kept certificate that will not work as the user expects: not
// signed by the CA in DIR, or (coordinator) not naming a requested host.
void checkKept(const fs::path& file, X509* ca, const std::vector<std::string>& hosts,
               std::ostream& err) {
  Result<std::string> pem = readPem(file);
  CertificatePtr certificate = pem ? parseCertificate(*pem) : nullptr;
  if (!certificate) {
    err << kProgram << ": warning: kept " << file.string() << ", which is not a PEM certificate\n";
    return;
  }
  KeyPtr caKey(X509_get_pubkey(ca));
  if (!caKey || X509_verify(certificate.get(), caKey.get()) != 1) {
    ERR_clear_error();
    err << kProgram << ": warning: kept " << file.string()
        << ", which the CA in this folder did not issue\n  hint: remove it and its key and run "
           "again to have it issued by this CA\n";
  }
  for (const std::string& host : hosts) {
    const int matches =
        isAddress(host) ? X509_check_ip_asc(certificate.get(), host.c_str(), 0)
                        : X509_check_host(certificate.get(), host.c_str(), host.size(), 0, nullptr);
    if (matches != 1) {
      err << kProgram << ": warning: kept " << file.string() << ", which does not name " << host
          << "\n  hint: remove it and its key and run again to have it issued for every --host\n";
    }
  }
}

// DIR itself: made with mode 0700 (keys live there) when missing.
std::optional<Error> prepareDir(const fs::path& dir, std::ostream& out) {
  std::error_code error;
  if (fs::is_directory(dir, error)) {
    return std::nullopt;
  }
  if (fs::exists(dir, error)) {
    return Error{dir.string() + " exists and is not a folder", "give a folder to write into"};
  }
  if (dir.has_parent_path()) {
    fs::create_directories(dir.parent_path(), error);
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{"cannot make the folder " + dir.string() + ": " + std::strerror(errno),
                 "check that its parent folder exists and is writable"};
  }
  // mkdir's mode is filtered by the umask; 0700 is what is meant.
  ::chmod(dir.c_str(), 0700);
  out << "made " << dir.string() << " (mode 0700)\n";
  return std::nullopt;
}

struct Ca {
  net::PemPair pem;
  CertificatePtr certificate;
};

Result<Ca> loadOrMakeCa(const fs::path& dir, std::ostream& out) {
  const fs::path certificateFile = dir / "ca.pem";
  const fs::path keyFile = dir / "ca-key.pem";
  Result<PairState> state = pairState(certificateFile, keyFile);
  if (!state) {
    return state.error();
  }
  Ca ca;
  if (*state == PairState::present) {
    Result<std::string> certificate = readPem(certificateFile);
    if (!certificate) {
      return certificate.error();
    }
    Result<std::string> key = readPem(keyFile);
    if (!key) {
      return key.error();
    }
    ca.pem = net::PemPair{std::move(*certificate), std::move(*key)};
    out << "kept " << certificateFile.string() << ", " << keyFile.string() << " (the CA)\n";
  } else {
    Result<net::PemPair> made = net::makeCertificateAuthority(kCaName);
    if (!made) {
      return made.error();
    }
    if (Result<bool> written = net::writePemPair(*made, certificateFile, keyFile); !written) {
      return written.error();
    }
    ca.pem = std::move(*made);
    out << "wrote " << certificateFile.string() << ", " << keyFile.string() << " (new CA \""
        << kCaName << "\", 10 years)\n";
  }
  ca.certificate = parseCertificate(ca.pem.certificate);
  if (!ca.certificate) {
    return Error{certificateFile.string() + " is not a PEM certificate",
                 "restore the CA's certificate, or move ca.pem and ca-key.pem away to make a new "
                 "CA (every certificate it issued must then be made again)"};
  }
  return ca;
}

struct Leaf {
  fs::path certificate;
  fs::path key;
  net::CertificateRequest request;
  std::string what;  // "the coordinator", "agent NAME"
};

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    text += (text.empty() ? "" : ", ") + name;
  }
  return text;
}

// One leaf pair: kept when both files are there (with a warning when it
// will not do: another CA's, or a server certificate missing a name), else
// issued by `ca`.
std::optional<Error> ensureLeaf(const Ca& ca, const Leaf& leaf, std::ostream& out,
                                std::ostream& err) {
  Result<PairState> state = pairState(leaf.certificate, leaf.key);
  if (!state) {
    return state.error();
  }
  const std::string files = leaf.certificate.string() + ", " + leaf.key.string();
  if (*state == PairState::present) {
    out << "kept " << files << " (" << leaf.what << ")\n";
    checkKept(leaf.certificate, ca.certificate.get(), leaf.request.alternativeNames, err);
    return std::nullopt;
  }
  Result<net::PemPair> issued = net::issueCertificate(ca.pem, leaf.request);
  if (!issued) {
    Error error = issued.error();
    error.message = "cannot issue " + leaf.certificate.string() + ": " + error.message;
    return error;
  }
  if (Result<bool> written = net::writePemPair(*issued, leaf.certificate, leaf.key); !written) {
    return written.error();
  }
  out << "wrote " << files << " (" << leaf.what;
  if (!leaf.request.alternativeNames.empty()) {
    out << ", for " << joined(leaf.request.alternativeNames);
  }
  out << ")\n";
  return std::nullopt;
}

int runInit(const InitOptions& options, std::ostream& out, std::ostream& err) {
  if (auto failed = prepareDir(options.dir, out)) {
    printError(err, failed->message, failed->hint);
    return 1;
  }
  Result<Ca> ca = loadOrMakeCa(options.dir, out);
  if (!ca) {
    printError(err, ca.error().message, ca.error().hint);
    return 1;
  }
  std::vector<Leaf> leaves;
  Leaf coordinator{
      options.dir / "coordinator.pem", options.dir / "coordinator-key.pem", {}, "the coordinator"};
  coordinator.request.commonName = kCoordinatorName;
  coordinator.request.server = true;
  coordinator.request.alternativeNames = kLocalNames;
  for (const std::string& host : options.hosts) {
    addOnce(coordinator.request.alternativeNames, host);
  }
  leaves.push_back(std::move(coordinator));
  for (const std::string& agent : options.agents) {
    Leaf leaf{options.dir / ("agent-" + agent + ".pem"),
              options.dir / ("agent-" + agent + "-key.pem"),
              {},
              "agent " + agent};
    leaf.request.commonName = agent;
    leaves.push_back(std::move(leaf));
  }
  for (const Leaf& leaf : leaves) {
    if (auto failed = ensureLeaf(*ca, leaf, out, err)) {
      printError(err, failed->message, failed->hint);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int runCertsCommand(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    printError(err, "certs needs a command", "");
    err << kUsage;
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    out << kUsage;
    return 0;
  }
  if (args[0] != "init") {
    printError(err, "unknown certs command '" + args[0] + "'", "the only one is certs init");
    err << kUsage;
    return 2;
  }
  for (const std::string& word : args.subspan(1)) {
    if (word == "--help" || word == "-h") {
      out << kUsage;
      return 0;
    }
  }
  auto parsed = parseInit(args.subspan(1));
  if (auto* usage = std::get_if<UsageError>(&parsed)) {
    printError(err, usage->message, usage->hint);
    err << kUsage;
    return 2;
  }
  return runInit(std::get<InitOptions>(parsed), out, err);
}

}  // namespace lifeboat::coordinator

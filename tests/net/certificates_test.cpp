// The certificate API: what the CA and the leaf certificates say, read back
// with OpenSSL, and how files are written.

#include "lifeboat/net/certificates.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>

#include "lifeboat/net/tls.hpp"
#include "lifeboat/test_support/files.hpp"
#include "lifeboat/test_support/temp_dir.hpp"
#include "x509_inspect.hpp"

namespace lifeboat::net {
namespace {

using namespace std::chrono_literals;
using testing::parseCertificate;
using testing::verifiesAgainst;

const PemPair& sharedCa() {
  static const PemPair ca = [] {
    Result<PemPair> made = makeCertificateAuthority("Test CA");
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    return made.ok() ? *made : PemPair{};
  }();
  return ca;
}

PemPair issue(const CertificateRequest& request) {
  Result<PemPair> issued = issueCertificate(sharedCa(), request);
  EXPECT_TRUE(issued.ok()) << (issued.ok() ? "" : issued.error().message);
  return issued.ok() ? *issued : PemPair{};
}

CertificateRequest serverRequest() {
  CertificateRequest request;
  request.commonName = "coordinator";
  request.alternativeNames = {"localhost", "127.0.0.1", "::1", "coordinator.example.org"};
  request.server = true;
  return request;
}

CertificateRequest clientRequest(const std::string& name) {
  CertificateRequest request;
  request.commonName = name;
  return request;
}

mode_t modeOf(const std::filesystem::path& file) {
  struct stat status {};
  EXPECT_EQ(::stat(file.c_str(), &status), 0) << file;
  return status.st_mode & 07777;
}

TEST(CertificateAuthority, IsASelfSignedP256CaForTenYears) {
  const PemPair& ca = sharedCa();
  auto certificate = parseCertificate(ca.certificate);
  ASSERT_NE(certificate, nullptr);
  EXPECT_EQ(X509_get_version(certificate.get()), X509_VERSION_3);
  EXPECT_EQ(testing::commonName(certificate.get()), "Test CA");
  EXPECT_EQ(X509_check_ca(certificate.get()), 1);
  EXPECT_TRUE(X509_get_extension_flags(certificate.get()) & EXFLAG_SS);
  EXPECT_TRUE(X509_get_key_usage(certificate.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(verifiesAgainst(certificate.get(), certificate.get(), 0));

  EVP_PKEY* key = X509_get0_pubkey(certificate.get());
  ASSERT_NE(key, nullptr);
  char group[64] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");

  const auto now = std::chrono::system_clock::now();
  EXPECT_LE(testing::notBefore(certificate.get()), now);
  const auto lifetime = testing::notAfter(certificate.get()) - now;
  EXPECT_GT(lifetime, 3650 * 24h);
  EXPECT_LT(lifetime, 3654 * 24h);

  EXPECT_TRUE(ca.privateKey.starts_with("-----BEGIN PRIVATE KEY-----\n")) << ca.privateKey;
}

TEST(CertificateAuthority, RefusesAnEmptyName) {
  Result<PemPair> made = makeCertificateAuthority("");
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message.find("name"), std::string::npos);
}

TEST(IssueCertificate, ServerCertificateNamesItsHostsAndIsForServersOnly) {
  const PemPair server = issue(serverRequest());
  auto certificate = parseCertificate(server.certificate);
  auto ca = parseCertificate(sharedCa().certificate);
  ASSERT_NE(certificate, nullptr);
  std::string reason;
  EXPECT_TRUE(verifiesAgainst(certificate.get(), ca.get(), X509_PURPOSE_SSL_SERVER, &reason))
      << reason;
  EXPECT_FALSE(verifiesAgainst(certificate.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_EQ(X509_check_ca(certificate.get()), 0);
  EXPECT_EQ(testing::commonName(certificate.get()), "coordinator");

  EXPECT_EQ(X509_check_host(certificate.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(certificate.get(), "coordinator.example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(certificate.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(certificate.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(certificate.get(), "other.example.org", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(certificate.get(), "127.0.0.2", 0), 1);

  // The key identifiers link it to the CA's key.
  const ASN1_OCTET_STRING* authority = X509_get0_authority_key_id(certificate.get());
  const ASN1_OCTET_STRING* caSubject = X509_get0_subject_key_id(ca.get());
  ASSERT_NE(authority, nullptr);
  ASSERT_NE(caSubject, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(authority, caSubject), 0);
  EXPECT_NE(X509_get0_subject_key_id(certificate.get()), nullptr);
}

TEST(IssueCertificate, ClientCertificateCarriesTheAgentNameAndIsForClientsOnly) {
  const PemPair client = issue(clientRequest("db-eu-1"));
  auto certificate = parseCertificate(client.certificate);
  auto ca = parseCertificate(sharedCa().certificate);
  ASSERT_NE(certificate, nullptr);
  EXPECT_EQ(testing::commonName(certificate.get()), "db-eu-1");
  std::string reason;
  EXPECT_TRUE(verifiesAgainst(certificate.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, &reason))
      << reason;
  EXPECT_FALSE(verifiesAgainst(certificate.get(), ca.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(client.privateKey.starts_with("-----BEGIN PRIVATE KEY-----\n"));
}

TEST(IssueCertificate, SerialsAreRandom128BitNumbers) {
  auto first = parseCertificate(issue(clientRequest("a")).certificate);
  auto second = parseCertificate(issue(clientRequest("a")).certificate);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(testing::serialBytes(first.get()), 16);
  EXPECT_EQ(testing::serialBytes(second.get()), 16);
  EXPECT_NE(testing::serialHex(first.get()), testing::serialHex(second.get()));
}

TEST(IssueCertificate, DefaultValidityIsAnHourBackTo825DaysAhead) {
  const auto before = std::chrono::system_clock::now();
  auto certificate = parseCertificate(issue(clientRequest("a")).certificate);
  ASSERT_NE(certificate, nullptr);
  const auto start = testing::notBefore(certificate.get());
  const auto end = testing::notAfter(certificate.get());
  EXPECT_LE(start, before - 1h + 2s);
  EXPECT_GE(start, before - 1h - 2s);
  EXPECT_GE(end, before + 825 * 24h - 2s);
  EXPECT_LE(end, before + 825 * 24h + 60s);
}

TEST(IssueCertificate, ValidityFromTheRequest) {
  const auto now = std::chrono::system_clock::now();
  CertificateRequest request = clientRequest("expired");
  request.notBefore = now - 48h;
  request.notAfter = now - 24h;
  auto certificate = parseCertificate(issue(request).certificate);
  ASSERT_NE(certificate, nullptr);
  EXPECT_LE(std::chrono::abs(testing::notBefore(certificate.get()) - (now - 48h)), 1s);
  EXPECT_LE(std::chrono::abs(testing::notAfter(certificate.get()) - (now - 24h)), 1s);
  auto ca = parseCertificate(sharedCa().certificate);
  std::string reason;
  EXPECT_FALSE(verifiesAgainst(certificate.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, &reason));
  EXPECT_EQ(reason, "certificate has expired");
}

TEST(IssueCertificate, RefusesWhatCannotMakeAUsefulCertificate) {
  CertificateRequest backwards = clientRequest("a");
  backwards.notBefore = std::chrono::system_clock::now();
  backwards.notAfter = backwards.notBefore - 1h;
  Result<PemPair> issued = issueCertificate(sharedCa(), backwards);
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("end before it starts"), std::string::npos);

  issued = issueCertificate(sharedCa(), clientRequest(""));
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("common name"), std::string::npos);

  CertificateRequest nameless = serverRequest();
  nameless.alternativeNames.clear();
  issued = issueCertificate(sharedCa(), nameless);
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("names no host"), std::string::npos);

  CertificateRequest injected = serverRequest();
  injected.alternativeNames = {"localhost,IP:127.0.0.9"};
  issued = issueCertificate(sharedCa(), injected);
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("'localhost,IP:127.0.0.9' is neither"), std::string::npos)
      << issued.error().message;
}

TEST(IssueCertificate, RefusesABrokenOrWrongCa) {
  Result<PemPair> issued =
      issueCertificate(PemPair{"not pem", sharedCa().privateKey}, clientRequest("a"));
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("CA certificate is not a PEM"), std::string::npos);

  Result<PemPair> otherCa = makeCertificateAuthority("Other CA");
  ASSERT_TRUE(otherCa.ok());
  issued =
      issueCertificate(PemPair{sharedCa().certificate, otherCa->privateKey}, clientRequest("a"));
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("does not belong"), std::string::npos);

  // A leaf is not a CA, even with its own key.
  const PemPair leaf = issue(clientRequest("leaf"));
  issued = issueCertificate(leaf, clientRequest("a"));
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("not a CA"), std::string::npos);
}

TEST(CheckAlternativeName, HostNamesAndAddresses) {
  for (const char* good : {"localhost", "db-eu-1.example.org", "*.example.org", "127.0.0.1", "::1",
                           "fe80::1", "A.B"}) {
    EXPECT_TRUE(checkAlternativeName(good).ok()) << good;
  }
  for (const char* bad : {"", "a..b", "-a.example", "a-.example", "a b", "a,b", "a/b", "*",
                          "a.*.example", "ex ample.org", "300.1.1.1", "127.0.0.1:80"}) {
    EXPECT_FALSE(checkAlternativeName(bad).ok()) << bad;
  }
}

TEST(WritePemPair, KeyIsPrivateAndContentsAreExact) {
  test_support::TempDir dir;
  const PemPair pair = issue(clientRequest("a"));
  const auto certificate = dir.path() / "a.pem";
  const auto key = dir.path() / "a-key.pem";
  const mode_t previous = ::umask(0);
  Result<bool> written = writePemPair(pair, certificate, key);
  ::umask(previous);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(modeOf(certificate), 0644u);
  EXPECT_EQ(modeOf(key), 0600u);
  EXPECT_EQ(test_support::readText(certificate), pair.certificate);
  EXPECT_EQ(test_support::readText(key), pair.privateKey);
  // Nothing but the two files: the temporary files were renamed.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);

  // Overwriting replaces the contents and keeps the modes.
  const PemPair other = issue(clientRequest("b"));
  ASSERT_TRUE(writePemPair(other, certificate, key).ok());
  EXPECT_EQ(test_support::readText(certificate), other.certificate);
  EXPECT_EQ(modeOf(key), 0600u);
}

TEST(WritePemPair, NamesTheFileItCannotWrite) {
  test_support::TempDir dir;
  const auto missing = dir.path() / "no-such-folder";
  Result<bool> written = writePemPair(sharedCa(), missing / "ca.pem", missing / "ca-key.pem");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find((missing / "ca-key.pem").string()), std::string::npos)
      << written.error().message;
}

TEST(WrittenFiles, LoadIntoTheTlsContexts) {
  test_support::TempDir dir;
  ASSERT_TRUE(writePemPair(sharedCa(), dir.path() / "ca.pem", dir.path() / "ca-key.pem").ok());
  ASSERT_TRUE(
      writePemPair(issue(serverRequest()), dir.path() / "server.pem", dir.path() / "server-key.pem")
          .ok());
  ASSERT_TRUE(writePemPair(issue(clientRequest("a")), dir.path() / "client.pem",
                           dir.path() / "client-key.pem")
                  .ok());
  auto server = makeServerTlsContext(TlsServerOptions{
      dir.path() / "server.pem", dir.path() / "server-key.pem", dir.path() / "ca.pem", true});
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
  auto client = makeClientTlsContext(TlsClientOptions{
      dir.path() / "ca.pem", dir.path() / "client.pem", dir.path() / "client-key.pem", ""});
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().message);
  // The client's key with the server's certificate: refused, naming both.
  auto mismatched = makeServerTlsContext(TlsServerOptions{
      dir.path() / "server.pem", dir.path() / "client-key.pem", dir.path() / "ca.pem", true});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().message.find("does not belong"), std::string::npos);
}

TEST(NormalizePin, AcceptsColonsAndUpperCase) {
  const std::string hex(64, 'a');
  std::string colons;
  for (std::size_t i = 0; i < 64; i += 2) {
    colons += (i == 0 ? "" : ":") + std::string("AA");
  }
  Result<std::string> plain = normalizePin(hex);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, hex);
  Result<std::string> fromColons = normalizePin(colons);
  ASSERT_TRUE(fromColons.ok()) << fromColons.error().message;
  EXPECT_EQ(*fromColons, hex);
  Result<std::string> mixed = normalizePin("0123456789ABCDEFabcdef" + std::string(42, '0'));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, "0123456789abcdefabcdef" + std::string(42, '0'));
}

TEST(NormalizePin, RefusesWrongLengthsAndNonHex) {
  for (const std::string& bad :
       {std::string(), std::string(62, 'a'), std::string(66, 'a'), std::string(63, 'a'),
        std::string(63, 'a') + "g", std::string(64, 'a') + " ", "sha256:" + std::string(64, 'a')}) {
    Result<std::string> pin = normalizePin(bad);
    EXPECT_FALSE(pin.ok()) << "'" << bad << "'";
  }
  Result<std::string> shortPin = normalizePin(std::string(40, 'a'));
  ASSERT_FALSE(shortPin.ok());
  EXPECT_NE(shortPin.error().message.find("20 bytes"), std::string::npos)
      << shortPin.error().message;
}

TEST(CertificateSha256, MatchesTheDerDigest) {
  auto certificate = parseCertificate(sharedCa().certificate);
  ASSERT_NE(certificate, nullptr);
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate.get(), &der);
  ASSERT_GT(length, 0);
  unsigned char digest[32];
  unsigned int digestLength = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<std::size_t>(length), digest, &digestLength, EVP_sha256(),
                       nullptr),
            1);
  OPENSSL_free(der);
  char hex[65] = {};
  for (unsigned int i = 0; i < digestLength; ++i) {
    std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  }
  EXPECT_EQ(certificateSha256(certificate.get()), std::string(hex));
}

}  // namespace
}  // namespace lifeboat::net

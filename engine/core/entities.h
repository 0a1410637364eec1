#pragma once
// Value types of the configuration, with Kong 3.x field names and defaults
// (kong-reference §1). Plain data: no behaviour beyond defaults.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace archway::core {

struct Service {
  std::string id;
  std::optional<std::string> name;
  std::string protocol = "http";
  std::string host;
  std::uint16_t port = 80;
  std::optional<std::string> path;
  int retries = 5;
  int connectTimeout = 60000;  // ms
  int writeTimeout = 60000;    // ms
  int readTimeout = 60000;     // ms
  bool enabled = true;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;  // seconds
  std::int64_t updatedAt = 0;
  // TLS towards the upstream (https services; proxy/upstream_tls.*): the client certificate
  // presented, whether and how deep the upstream's certificate is verified, and the CAs for it.
  std::optional<std::string> clientCertificate;  // certificate id
  std::optional<bool> tlsVerify;                  // unset: the node's default applies
  std::optional<int> tlsVerifyDepth;              // 0..64
  std::vector<std::string> caCertificates;        // ca_certificate ids

  bool operator==(const Service&) const = default;
};

struct Route {
  std::string id;
  std::optional<std::string> name;
  std::vector<std::string> protocols{"http", "https"};
  std::vector<std::string> methods;
  std::vector<std::string> hosts;
  std::vector<std::string> paths;
  std::map<std::string, std::vector<std::string>> headers;
  bool stripPath = true;
  bool preserveHost = false;
  int regexPriority = 0;
  std::string pathHandling = "v0";
  int httpsRedirectStatusCode = 426;
  bool requestBuffering = true;
  bool responseBuffering = true;
  std::optional<std::string> serviceId;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Route&) const = default;
};

// Upstream health checks, Kong's fields and defaults (kong-reference §1.3). 0 disables a
// counter or an interval.
struct HealthcheckActive {
  std::string type = "http";  // tcp, http, https
  int timeout = 1;            // seconds
  int concurrency = 10;
  std::string httpPath = "/";
  std::optional<std::string> httpsSni;
  bool httpsVerifyCertificate = true;
  std::map<std::string, std::vector<std::string>> headers;
  int healthyInterval = 0;  // seconds
  std::vector<int> healthyHttpStatuses{200, 302};
  int healthySuccesses = 0;
  int unhealthyInterval = 0;
  std::vector<int> unhealthyHttpStatuses{429, 404, 500, 501, 502, 503, 504, 505};
  int unhealthyTcpFailures = 0;
  int unhealthyTimeouts = 0;
  int unhealthyHttpFailures = 0;

  bool operator==(const HealthcheckActive&) const = default;
};

struct HealthcheckPassive {
  std::string type = "http";  // tcp, http, https
  std::vector<int> healthyHttpStatuses{200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
                                       300, 301, 302, 303, 304, 305, 306, 307, 308};
  int healthySuccesses = 0;
  std::vector<int> unhealthyHttpStatuses{429, 500, 503};
  int unhealthyTcpFailures = 0;
  int unhealthyTimeouts = 0;
  int unhealthyHttpFailures = 0;

  bool operator==(const HealthcheckPassive&) const = default;
};

struct Healthchecks {
  HealthcheckActive active;
  HealthcheckPassive passive;
  double threshold = 0;  // percent of total weight that must be healthy

  bool operator==(const Healthchecks&) const = default;
};

struct Upstream {
  std::string id;
  std::string name;  // a hostname; services whose host equals it are balanced over its targets
  std::string algorithm = "round-robin";  // consistent-hashing, least-connections, latency
  std::string hashOn = "none";  // none, consumer, ip, header, cookie, path, query_arg, uri_capture
  std::string hashFallback = "none";
  std::optional<std::string> hashOnHeader, hashFallbackHeader;
  std::optional<std::string> hashOnCookie;
  std::string hashOnCookiePath = "/";
  std::optional<std::string> hashOnQueryArg, hashFallbackQueryArg;
  std::optional<std::string> hashOnUriCapture, hashFallbackUriCapture;
  int slotCount = 10000;  // Kong: `slots` (renamed: `slots` is a Qt macro)
  std::optional<std::string> hostHeader;
  bool useSrvName = false;
  Healthchecks healthchecks;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;
  // certificate id: the client certificate for https targets when the service names none
  std::optional<std::string> clientCertificate;

  bool operator==(const Upstream&) const = default;
};

struct Target {
  std::string id;
  std::string upstreamId;
  std::string target;  // "host:port", port 8000 when none was given
  int weight = 100;    // 0: no traffic
  std::vector<std::string> tags;
  double createdAt = 0;  // seconds with millisecond precision, as Kong stores targets
  double updatedAt = 0;

  bool operator==(const Target&) const = default;
};

// Kong 3.x consumers and their credentials (kong-reference §1.5, §5.2).
struct Consumer {
  std::string id;
  std::optional<std::string> username;
  std::optional<std::string> customId;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Consumer&) const = default;
};

// key-auth credential (`keyauth_credentials`).
struct KeyAuthCredential {
  std::string id;
  std::string consumerId;
  std::string key;  // unique
  std::optional<int> ttl;  // seconds from createdAt; expired keys do not authenticate
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;

  bool operator==(const KeyAuthCredential&) const = default;
};

// basic-auth credential (`basicauth_credentials`). Kong stores sha1(password .. consumer_id)
// in hex; `password` holds that hash once the entity has been written.
struct BasicAuthCredential {
  std::string id;
  std::string consumerId;
  std::string username;  // unique
  std::string password;  // the hash
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;

  bool operator==(const BasicAuthCredential&) const = default;
};

// jwt credential (`jwt_secrets`).
struct JwtSecret {
  std::string id;
  std::string consumerId;
  std::string key;  // matched against the claim named by key_claim_name (default iss)
  std::string secret;
  std::optional<std::string> rsaPublicKey;  // PEM, for RS*/ES*/PS* algorithms
  std::string algorithm = "HS256";
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;

  bool operator==(const JwtSecret&) const = default;
};

// acl group membership (`acls`).
struct AclGroup {
  std::string id;
  std::string consumerId;
  std::string group;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;

  bool operator==(const AclGroup&) const = default;
};

// A plugin instance (kong-reference §1.6). `config` is the JSON text of the plugin's config
// after schema validation, with every default filled in; core stays free of a JSON library.
struct Plugin {
  std::string id;
  std::string name;
  std::optional<std::string> instanceName;
  std::string config = "{}";
  bool enabled = true;
  std::vector<std::string> protocols{"grpc", "grpcs", "http", "https"};
  std::optional<std::string> routeId;
  std::optional<std::string> serviceId;
  std::optional<std::string> consumerId;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Plugin&) const = default;
};

// TLS entities (kong-reference §1.7). PEM text as given; validated by config/ with OpenSSL.
struct Certificate {
  std::string id;
  std::string cert;
  std::string key;
  std::optional<std::string> certAlt;  // a second pair of another key type (RSA + ECDSA)
  std::optional<std::string> keyAlt;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Certificate&) const = default;
};

// A server name served with a certificate: a host, or one wildcard label (`*.a.com`, `a.*`).
struct Sni {
  std::string id;
  std::string name;  // unique
  std::string certificateId;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Sni&) const = default;
};

struct CaCertificate {
  std::string id;
  std::string cert;        // one PEM certificate with the CA basic constraint
  std::string certDigest;  // sha256 of the DER, lower-case hex; unique
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const CaCertificate&) const = default;
};

// One whole configuration: what a kong.yml or a store holds.
struct Config {
  std::vector<Service> services;
  std::vector<Route> routes;
  std::vector<Upstream> upstreams;
  std::vector<Target> targets;
  std::vector<Consumer> consumers;
  std::vector<KeyAuthCredential> keyauthCredentials;
  std::vector<BasicAuthCredential> basicauthCredentials;
  std::vector<JwtSecret> jwtSecrets;
  std::vector<AclGroup> acls;
  std::vector<Plugin> plugins;
  std::vector<Certificate> certificates;
  std::vector<Sni> snis;
  std::vector<CaCertificate> caCertificates;

  const Service* findService(const std::string& idOrName) const;
  const Upstream* findUpstream(const std::string& idOrName) const;
  const Consumer* findConsumer(const std::string& idOrUsername) const;
  bool operator==(const Config&) const = default;
};

}  // namespace archway::core

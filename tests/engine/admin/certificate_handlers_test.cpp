// Certificates, SNIs, CA certificates and tag filters on the Admin API, driven directly:
// Kong's shapes, status codes and errors, nested snis, cascades, OpenSSL checks of the PEMs.
#include <QtTest>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../config/test_certificates.h"
#include "admin/admin_api.h"
#include "config/declarative.h"
#include "core/uuid.h"

using namespace archway;
namespace json = boost::json;

namespace {

struct Fixture {
  std::shared_ptr<const core::Config> current = std::make_shared<const core::Config>();
  std::unique_ptr<admin::AdminApi> api;

  Fixture() {
    admin::AdminContext ctx;
    ctx.config = [this] { return current; };
    ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
    ctx.apply = [this](core::Config c) -> core::Status {
      if (auto v = config::validate(c); !v) return v;
      current = std::make_shared<const core::Config>(std::move(c));
      return core::Ok{};
    };
    api = std::make_unique<admin::AdminApi>(std::move(ctx));
  }

  json::object expect(std::string_view method, std::string_view target, int status,
                      const json::value& body = nullptr) {
    const std::string text = body.is_null() ? std::string() : json::serialize(body);
    auto r = api->handle({method, target, "", text, "application/json"});
    if (r.status != status) {
      qWarning("%s %s: %d %s", std::string(method).c_str(), std::string(target).c_str(), r.status,
               r.body.c_str());
      return json::object{{"__unexpected_status", r.status}};
    }
    if (r.body.empty()) return {};
    return json::parse(r.body).as_object();
  }
};

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

std::vector<std::string> names(const json::value& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& x : v.as_array()) out.push_back(str(x));
  return out;
}

const testing::CertificatePair& rsa() {
  static const auto p = testing::makeCertificate();
  return p;
}
const testing::CertificatePair& rsa2() {
  static const auto p = testing::makeCertificate({.commonName = "other.test"});
  return p;
}
const testing::CertificatePair& ec() {
  static const auto p = testing::makeCertificate({.ec = true});
  return p;
}
const testing::CertificatePair& ca() {
  static const auto p = testing::makeCertificate({.ca = true, .commonName = "Archway Test CA"});
  return p;
}

json::object certBody(const testing::CertificatePair& p, json::array snis = {}) {
  json::object o{{"cert", p.cert}, {"key", p.key}};
  if (!snis.empty()) o["snis"] = std::move(snis);
  return o;
}

}  // namespace

class CertificateHandlersTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void createsReadsAndUpdatesCertificates() {
    Fixture f;
    auto c = f.expect("POST", "/certificates", 201,
                      certBody(rsa(), {"b.example.com", "*.a.example.com"}));
    const std::string id = str(c.at("id"));
    QVERIFY(core::isUuid(id));
    // Kong answers with the cert and key, and the sni names sorted.
    QCOMPARE(str(c.at("cert")), rsa().cert);
    QCOMPARE(str(c.at("key")), rsa().key);
    QVERIFY(c.at("cert_alt").is_null());
    QCOMPARE(names(c.at("snis")), (std::vector<std::string>{"*.a.example.com", "b.example.com"}));
    QCOMPARE(f.current->snis.size(), std::size_t(2));

    // By id or by one of its sni names.
    QCOMPARE(str(f.expect("GET", "/certificates/" + id, 200).at("key")), rsa().key);
    QCOMPARE(str(f.expect("GET", "/certificates/b.example.com", 200).at("id")), id);
    f.expect("GET", "/certificates/nothing.example.com", 404);

    // PATCH with snis replaces the set; without, keeps it.
    auto patched = f.expect("PATCH", "/certificates/" + id, 200,
                            json::object{{"snis", {"c.example.com"}}, {"tags", {"edge"}}});
    QCOMPARE(names(patched.at("snis")), (std::vector<std::string>{"c.example.com"}));
    QCOMPARE(f.current->snis.size(), std::size_t(1));
    auto retagged =
        f.expect("PATCH", "/certificates/c.example.com", 200, json::object{{"tags", {"x"}}});
    QCOMPARE(names(retagged.at("snis")), (std::vector<std::string>{"c.example.com"}));
    QCOMPARE(names(retagged.at("tags")), (std::vector<std::string>{"x"}));

    // PUT replaces the pair; an alternative pair must be of another key type.
    auto put = f.expect("PUT", "/certificates/" + id, 200,
                        json::object{{"cert", rsa().cert},
                                     {"key", rsa().key},
                                     {"cert_alt", ec().cert},
                                     {"key_alt", ec().key}});
    QCOMPARE(str(put.at("cert_alt")), ec().cert);
    QCOMPARE(str(put.at("id")), id);
    auto sameType = f.expect("PATCH", "/certificates/" + id, 400,
                             json::object{{"cert_alt", rsa2().cert}, {"key_alt", rsa2().key}});
    QVERIFY(str(sameType.at("fields").at("@entity").at(0)).find("different type") !=
            std::string::npos);
    auto halfAlt = f.expect("POST", "/certificates", 400,
                            json::object{{"cert", rsa2().cert}, {"key", rsa2().key},
                                         {"cert_alt", ec().cert}});
    QCOMPARE(str(halfAlt.at("fields").at("@entity").at(0)),
             std::string("all or none of these fields must be set: 'cert_alt', 'key_alt'"));

    // PUT on an sni name that serves nothing yet creates a certificate for it.
    auto byName = f.expect("PUT", "/certificates/new.example.com", 200, certBody(rsa2()));
    QCOMPARE(names(byName.at("snis")), (std::vector<std::string>{"new.example.com"}));
    QCOMPARE(f.current->certificates.size(), std::size_t(2));

    // Pagination.
    auto first = f.expect("GET", "/certificates?size=1", 200);
    QCOMPARE(first.at("data").as_array().size(), std::size_t(1));
    QCOMPARE(str(first.at("next")), std::string("/certificates?offset=1&size=1"));
    QCOMPARE(names(first.at("data").at(0).at("snis")),
             (std::vector<std::string>{"c.example.com"}));
    auto second = f.expect("GET", "/certificates?offset=1&size=1", 200);
    QVERIFY(second.at("next").is_null());
  }

  void snisNestedUnderTheirCertificate() {
    Fixture f;
    const std::string id = str(f.expect("POST", "/certificates", 201, certBody(rsa())).at("id"));
    auto sni = f.expect("POST", "/certificates/" + id + "/snis", 201,
                        json::object{{"name", "api.example.com"}, {"tags", {"t"}}});
    QCOMPARE(str(sni.at("name")), std::string("api.example.com"));
    QCOMPARE(str(sni.at("certificate").at("id")), id);
    const std::string sniId = str(sni.at("id"));
    QCOMPARE(f.expect("GET", "/certificates/" + id + "/snis", 200).at("data").as_array().size(),
             std::size_t(1));
    QCOMPARE(str(f.expect("GET", "/snis/api.example.com", 200).at("id")), sniId);
    QCOMPARE(str(f.expect("GET", "/snis/" + sniId + "/certificate", 200).at("id")), id);
    QCOMPARE(str(f.expect("GET", "/certificates/" + id + "/snis/api.example.com", 200).at("id")),
             sniId);

    // Top-level /snis: the certificate is required and must exist.
    auto missing = f.expect("POST", "/snis", 400, json::object{{"name", "x.example.com"}});
    QCOMPARE(str(missing.at("fields").at("certificate")), std::string("required field missing"));
    auto dangling =
        f.expect("POST", "/snis", 400,
                 json::object{{"name", "x.example.com"},
                              {"certificate", {{"id", "6b1e2a5c-4a6f-4bb8-9c57-0d2f1b0e1a11"}}}});
    QCOMPARE(dangling.at("code").as_int64(), std::int64_t(4));
    f.expect("POST", "/snis", 201,
             json::object{{"name", "x.example.com"}, {"certificate", {{"id", id}}}});
    // PUT by name creates (upsert), PATCH renames.
    f.expect("PUT", "/snis/y.example.com", 200, json::object{{"certificate", {{"id", id}}}});
    auto renamed =
        f.expect("PATCH", "/snis/y.example.com", 200, json::object{{"name", "z.example.com"}});
    QCOMPARE(str(renamed.at("name")), std::string("z.example.com"));
    QCOMPARE(names(f.expect("GET", "/certificates/" + id, 200).at("snis")),
             (std::vector<std::string>{"api.example.com", "x.example.com", "z.example.com"}));

    f.expect("DELETE", "/certificates/" + id + "/snis/api.example.com", 204);
    f.expect("DELETE", "/snis/x.example.com", 204);
    QCOMPARE(f.current->snis.size(), std::size_t(1));
    f.expect("GET", "/snis/api.example.com", 404);
  }

  void deletingACertificateDeletesItsSnis() {
    Fixture f;
    const std::string id =
        str(f.expect("POST", "/certificates", 201, certBody(rsa(), {"a.example.com"})).at("id"));
    f.expect("POST", "/snis", 201,
             json::object{{"name", "b.example.com"}, {"certificate", {{"id", id}}}});
    QCOMPARE(f.current->snis.size(), std::size_t(2));
    f.expect("DELETE", "/certificates/a.example.com", 204);
    QVERIFY(f.current->certificates.empty());
    QVERIFY(f.current->snis.empty());
    f.expect("DELETE", "/certificates/" + id, 204);  // already gone: still 204, as Kong
  }

  void rejectsPemThatDoesNotParse() {
    Fixture f;
    auto badCert = f.expect("POST", "/certificates", 400,
                            json::object{{"cert", "not a certificate"}, {"key", rsa().key}});
    QCOMPARE(badCert.at("code").as_int64(), std::int64_t(2));
    QCOMPARE(str(badCert.at("name")), std::string("schema violation"));
    QVERIFY(str(badCert.at("fields").at("cert")).rfind("invalid certificate: ", 0) == 0);
    auto badKey = f.expect("POST", "/certificates", 400,
                           json::object{{"cert", rsa().cert}, {"key", "-----BEGIN PRIVATE KEY-----"}});
    QVERIFY(str(badKey.at("fields").at("key")).rfind("invalid key: ", 0) == 0);
    auto missing = f.expect("POST", "/certificates", 400, json::object{{"cert", rsa().cert}});
    QCOMPARE(str(missing.at("fields").at("key")), std::string("required field missing"));
    QVERIFY(f.current->certificates.empty());
  }

  void rejectsAKeyThatDoesNotMatchTheCertificate() {
    Fixture f;
    auto r = f.expect("POST", "/certificates", 400,
                      json::object{{"cert", rsa().cert}, {"key", rsa2().key}});
    QCOMPARE(str(r.at("fields").at("@entity").at(0)), std::string("certificate does not match key"));
    QCOMPARE(str(r.at("message")), std::string("schema violation (certificate does not match key)"));
  }

  void duplicateSniNamesAreUniqueViolations() {
    Fixture f;
    const std::string id =
        str(f.expect("POST", "/certificates", 201, certBody(rsa(), {"a.example.com"})).at("id"));
    auto again = f.expect("POST", "/certificates", 409, certBody(rsa2(), {"a.example.com"}));
    QCOMPARE(again.at("code").as_int64(), std::int64_t(5));
    QCOMPARE(str(again.at("name")), std::string("unique constraint violation"));
    QCOMPARE(str(again.at("message")),
             std::string("UNIQUE violation detected on '{name=\"a.example.com\"}'"));
    QCOMPARE(str(again.at("fields").at("name")), std::string("a.example.com"));
    f.expect("POST", "/snis", 409,
             json::object{{"name", "a.example.com"}, {"certificate", {{"id", id}}}});
    QCOMPARE(f.current->certificates.size(), std::size_t(1));
    QCOMPARE(f.current->snis.size(), std::size_t(1));
  }

  void sniNamesFollowKongsWildcardRules_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("error");  // empty: accepted
    QTest::newRow("plain") << "api.example.com" << "";
    QTest::newRow("leftmost") << "*.example.com" << "";
    QTest::newRow("rightmost") << "example.*" << "";
    QTest::newRow("middle") << "a.*.com" << "wildcard must be leftmost or rightmost character";
    QTest::newRow("two") << "*.example.*" << "only one wildcard must be specified";
    QTest::newRow("ip") << "10.0.0.1" << "must not be an IP";
    QTest::newRow("port") << "example.com:443" << "must not have a port";
    QTest::newRow("junk") << "exa mple.com" << "invalid value: exa mple.com";
  }
  void sniNamesFollowKongsWildcardRules() {
    QFETCH(QString, name);
    QFETCH(QString, error);
    Fixture f;
    const std::string id = str(f.expect("POST", "/certificates", 201, certBody(rsa())).at("id"));
    json::object body{{"name", name.toStdString()}, {"certificate", {{"id", id}}}};
    if (error.isEmpty()) {
      f.expect("POST", "/snis", 201, body);
    } else {
      auto r = f.expect("POST", "/snis", 400, body);
      QCOMPARE(QString::fromStdString(str(r.at("fields").at("name"))), error);
      // The shorthand on a certificate is checked the same way.
      auto viaCert = f.expect("PATCH", "/certificates/" + id, 400,
                              json::object{{"snis", {name.toStdString()}}});
      QCOMPARE(QString::fromStdString(str(viaCert.at("fields").at("snis").at(0))), error);
    }
  }

  void caCertificatesNeedTheCaConstraintAndAUniqueDigest() {
    Fixture f;
    auto c = f.expect("POST", "/ca_certificates", 201,
                      json::object{{"cert", ca().cert}, {"tags", {"pki"}}});
    const std::string digest = str(c.at("cert_digest"));
    QCOMPARE(digest.size(), std::size_t(64));
    QVERIFY(digest.find_first_not_of("0123456789abcdef") == std::string::npos);
    const std::string id = str(c.at("id"));
    QCOMPARE(str(f.expect("GET", "/ca_certificates/" + id, 200).at("cert")), ca().cert);

    auto dup = f.expect("POST", "/ca_certificates", 409, json::object{{"cert", ca().cert}});
    QCOMPARE(str(dup.at("fields").at("cert_digest")), digest);
    auto notCa = f.expect("POST", "/ca_certificates", 400, json::object{{"cert", rsa().cert}});
    QVERIFY(str(notCa.at("fields").at("@entity").at(0)).find("\"CA\" basic constraint") !=
            std::string::npos);
    const auto expired = testing::makeCertificate({.ca = true, .expired = true});
    auto old = f.expect("POST", "/ca_certificates", 400, json::object{{"cert", expired.cert}});
    QCOMPARE(str(old.at("fields").at("@entity").at(0)),
             std::string("certificate expired, \"Not After\" time is in the past"));
    auto two = f.expect("POST", "/ca_certificates", 400,
                        json::object{{"cert", ca().cert + rsa().cert}});
    QCOMPARE(str(two.at("fields").at("@entity").at(0)),
             std::string("please submit only one certificate at a time"));
    f.expect("POST", "/ca_certificates", 400, json::object{{"cert", "junk"}});

    // A service trusting the CA keeps it from being deleted (Kong's code 19).
    auto svc = f.expect("POST", "/services", 201,
                        json::object{{"name", "tls"},
                                     {"url", "https://backend.internal"},
                                     {"tls_verify", true},
                                     {"tls_verify_depth", 2},
                                     {"ca_certificates", {id}}});
    QCOMPARE(names(svc.at("ca_certificates")), std::vector<std::string>{id});
    QCOMPARE(svc.at("tls_verify").as_bool(), true);
    QCOMPARE(svc.at("tls_verify_depth").as_int64(), std::int64_t(2));
    auto refused = f.expect("DELETE", "/ca_certificates/" + id, 400);
    QCOMPARE(refused.at("code").as_int64(), std::int64_t(19));
    f.expect("PATCH", "/services/tls", 200, json::object{{"ca_certificates", nullptr}});
    f.expect("DELETE", "/ca_certificates/" + id, 204);
    QVERIFY(f.current->caCertificates.empty());
  }

  void servicesReferToCertificatesOnlyOverTls() {
    Fixture f;
    const std::string id = str(f.expect("POST", "/certificates", 201, certBody(rsa())).at("id"));
    auto svc = f.expect("POST", "/services", 201,
                        json::object{{"name", "mtls"},
                                     {"url", "https://backend.internal"},
                                     {"client_certificate", {{"id", id}}}});
    QCOMPARE(str(svc.at("client_certificate").at("id")), id);
    // Plain http: the TLS fields must stay null.
    auto plain = f.expect("POST", "/services", 400,
                          json::object{{"name", "plain"},
                                       {"url", "http://backend.internal"},
                                       {"client_certificate", {{"id", id}}},
                                       {"tls_verify_depth", 1}});
    QCOMPARE(str(plain.at("fields").at("client_certificate")), std::string("value must be null"));
    QCOMPARE(str(plain.at("fields").at("tls_verify_depth")), std::string("value must be null"));
    auto dangling = f.expect("POST", "/services", 400,
                             json::object{{"name", "x"},
                                          {"url", "https://backend.internal"},
                                          {"client_certificate",
                                           {{"id", "6b1e2a5c-4a6f-4bb8-9c57-0d2f1b0e1a11"}}}});
    QCOMPARE(dangling.at("code").as_int64(), std::int64_t(4));
    f.expect("POST", "/services", 400,
             json::object{{"name", "deep"}, {"url", "https://b.internal"}, {"tls_verify_depth", 65}});
    // A certificate a service uses cannot be deleted.
    auto refused = f.expect("DELETE", "/certificates/" + id, 400);
    QCOMPARE(str(refused.at("fields").at("@referenced_by")), std::string("services"));
    f.expect("DELETE", "/services/mtls", 204);
    f.expect("DELETE", "/certificates/" + id, 204);
  }

  void listsFilterByTags() {
    Fixture f;
    f.expect("POST", "/services", 201,
             json::object{{"name", "ab"}, {"host", "h"}, {"tags", {"a", "b"}}});
    f.expect("POST", "/services", 201, json::object{{"name", "a"}, {"host", "h"}, {"tags", {"a"}}});
    f.expect("POST", "/services", 201, json::object{{"name", "c"}, {"host", "h"}, {"tags", {"c"}}});
    f.expect("POST", "/services", 201, json::object{{"name", "none"}, {"host", "h"}});
    auto names = [&](const std::string& target) {
      std::vector<std::string> out;
      const json::object list = f.expect("GET", target, 200);
      for (const auto& x : list.at("data").as_array()) out.push_back(str(x.at("name")));
      return out;
    };
    QCOMPARE(names("/services?tags=a"), (std::vector<std::string>{"ab", "a"}));
    QCOMPARE(names("/services?tags=a,b"), (std::vector<std::string>{"ab"}));  // all of
    QCOMPARE(names("/services?tags=b/c"), (std::vector<std::string>{"ab", "c"}));  // any of
    QCOMPARE(names("/services?tags=b%2Fc"), (std::vector<std::string>{"ab", "c"}));
    QCOMPARE(names("/services?tags=zzz"), std::vector<std::string>{});
    // Paging within the filter keeps the filter in `next`.
    auto page = f.expect("GET", "/services?tags=a/c&size=2", 200);
    QCOMPARE(str(page.at("next")), std::string("/services?offset=2&tags=a%2Fc&size=2"));
    auto rest = f.expect("GET", str(page.at("next")), 200);
    QCOMPARE(rest.at("data").as_array().size(), std::size_t(1));
    QCOMPARE(str(rest.at("data").at(0).at("name")), std::string("c"));
    // Mixed operators and too many tags: Kong's invalid options (code 11).
    auto mixed = f.expect("GET", "/services?tags=a,b/c", 400);
    QCOMPARE(mixed.at("code").as_int64(), std::int64_t(11));
    f.expect("GET", "/services?tags=1,2,3,4,5,6", 400);

    // Routes, consumers, plugins, credentials and snis filter the same way.
    f.expect("POST", "/services/ab/routes", 201,
             json::object{{"name", "r1"}, {"paths", {"/1"}}, {"tags", {"blue"}}});
    f.expect("POST", "/services/ab/routes", 201, json::object{{"name", "r2"}, {"paths", {"/2"}}});
    QCOMPARE(names("/routes?tags=blue"), std::vector<std::string>{"r1"});
    QCOMPARE(names("/services/ab/routes?tags=blue"), std::vector<std::string>{"r1"});
    f.expect("POST", "/consumers", 201, json::object{{"username", "u1"}, {"tags", {"gold"}}});
    f.expect("POST", "/consumers", 201, json::object{{"username", "u2"}});
    auto consumers = f.expect("GET", "/consumers?tags=gold", 200).at("data").as_array();
    QCOMPARE(consumers.size(), std::size_t(1));
    QCOMPARE(str(consumers.at(0).at("username")), std::string("u1"));
    f.expect("POST", "/plugins", 201, json::object{{"name", "cors"}, {"tags", {"gold"}}});
    f.expect("POST", "/plugins", 201, json::object{{"name", "correlation-id"}});
    QCOMPARE(names("/plugins?tags=gold"), std::vector<std::string>{"cors"});
    f.expect("POST", "/consumers/u1/key-auth", 201, json::object{{"key", "k1"}, {"tags", {"gold"}}});
    f.expect("POST", "/consumers/u1/key-auth", 201, json::object{{"key", "k2"}});
    auto keys = f.expect("GET", "/key-auths?tags=gold", 200).at("data").as_array();
    QCOMPARE(keys.size(), std::size_t(1));
    QCOMPARE(str(keys.at(0).at("key")), std::string("k1"));
    f.expect("POST", "/certificates", 201, certBody(rsa()));
    QCOMPARE(f.expect("GET", "/certificates?tags=gold", 200).at("data").as_array().size(),
             std::size_t(0));
  }

  void tagsMustNotHoldSeparators() {
    Fixture f;
    auto r = f.expect("POST", "/services", 400,
                      json::object{{"name", "s"}, {"host", "h"}, {"tags", {"ok", "a,b"}}});
    QCOMPARE(str(r.at("fields").at("tags").at(1)),
             std::string("invalid tag 'a,b': expected printable ascii (except `,` and `/`) or "
                         "valid utf-8 sequences"));
    f.expect("POST", "/consumers", 400, json::object{{"username", "u"}, {"tags", {"x/y"}}});
    f.expect("POST", "/certificates", 400,
             json::object{{"cert", rsa().cert}, {"key", rsa().key}, {"tags", {""}}});
  }

  void tagsEndpointListsEveryTaggedEntity() {
    Fixture f;
    const std::string svc = str(
        f.expect("POST", "/services", 201, json::object{{"name", "s"}, {"host", "h"}, {"tags", {"a", "b"}}})
            .at("id"));
    const std::string consumer = str(
        f.expect("POST", "/consumers", 201, json::object{{"username", "u"}, {"tags", {"a"}}}).at("id"));
    const std::string cert = str(
        f.expect("POST", "/certificates", 201,
                 json::object{{"cert", rsa().cert}, {"key", rsa().key}, {"tags", {"b"}}})
            .at("id"));
    auto all = f.expect("GET", "/tags", 200);
    const auto& data = all.at("data").as_array();
    QCOMPARE(data.size(), std::size_t(4));
    QCOMPARE(str(data.at(0).at("entity_name")), std::string("services"));
    QCOMPARE(str(data.at(0).at("entity_id")), svc);
    QCOMPARE(str(data.at(0).at("tag")), std::string("a"));
    QVERIFY(all.at("next").is_null());
    auto a = f.expect("GET", "/tags/a", 200).at("data").as_array();
    QCOMPARE(a.size(), std::size_t(2));
    QCOMPARE(str(a.at(1).at("entity_name")), std::string("consumers"));
    QCOMPARE(str(a.at(1).at("entity_id")), consumer);
    auto b = f.expect("GET", "/tags/b?size=1", 200);
    QCOMPARE(b.at("data").as_array().size(), std::size_t(1));
    QCOMPARE(str(b.at("next")), std::string("/tags/b?offset=1&size=1"));
    auto b2 = f.expect("GET", "/tags/b?offset=1&size=1", 200).at("data").as_array();
    QCOMPARE(str(b2.at(0).at("entity_name")), std::string("certificates"));
    QCOMPARE(str(b2.at(0).at("entity_id")), cert);
    f.expect("POST", "/tags", 405);
  }

  void declarativeConfigRoundTripsTlsEntities() {
    Fixture f;
    const std::string id =
        str(f.expect("POST", "/certificates", 201, certBody(rsa(), {"a.example.com"})).at("id"));
    f.expect("POST", "/ca_certificates", 201, json::object{{"cert", ca().cert}});
    f.expect("POST", "/services", 201,
             json::object{{"name", "mtls"},
                          {"url", "https://backend.internal"},
                          {"client_certificate", {{"id", id}}},
                          {"ca_certificates", {f.current->caCertificates[0].id}}});
    // GET /config exports them; POSTing the export back gives the same configuration.
    auto exported = f.api->handle({"GET", "/config", "", "", ""});
    QCOMPARE(exported.status, 200);
    const std::string yaml = str(json::parse(exported.body).at("config"));
    QVERIFY(yaml.find("certificates:") != std::string::npos);
    auto reparsed = config::parseDeclarative(yaml);
    QVERIFY2(reparsed.ok(), reparsed.errorText().c_str());
    QCOMPARE(reparsed->certificates, f.current->certificates);
    QCOMPARE(reparsed->snis, f.current->snis);
    QCOMPARE(reparsed->caCertificates, f.current->caCertificates);
    QCOMPARE(reparsed->services, f.current->services);
  }
};

QTEST_GUILESS_MAIN(CertificateHandlersTest)
#include "certificate_handlers_test.moc"

// Kong's entity schemas as GET /schemas/{entity} shows them (kong/db/schema/entities/*.lua,
// kong-reference §1). They describe the fields the declarative reader and the Admin API accept;
// validation itself is done by that code, not by these documents.
#include "admin/entity_schemas.h"

#include <boost/json/parse.hpp>
#include <utility>

namespace archway::admin {
namespace {

// Fields every entity starts with.
constexpr std::string_view kHead =
    R"({"id":{"type":"string","uuid":true,"auto":true}},
       {"created_at":{"type":"integer","timestamp":true,"auto":true}})";
constexpr std::string_view kUpdated =
    R"({"updated_at":{"type":"integer","timestamp":true,"auto":true}})";
constexpr std::string_view kTags =
    R"({"tags":{"type":"set","elements":{"type":"string","required":true}}})";
constexpr std::string_view kProtocols =
    R"(["grpc","grpcs","http","https","tcp","tls","tls_passthrough","udp"])";

std::string consumerCredential(std::string_view fields) {
  return std::string(kHead) +
         R"(,{"consumer":{"type":"foreign","reference":"consumers","required":true,
              "on_delete":"cascade"}},)" +
         std::string(fields) + "," + std::string(kTags);
}

std::vector<std::pair<std::string, std::string>> build() {
  const std::string head(kHead), updated(kUpdated), tags(kTags), protocols(kProtocols);
  std::vector<std::pair<std::string, std::string>> s;
  s.emplace_back("services", head + "," + updated + R"(,
    {"name":{"type":"string","unique":true,"indexed":true}},
    {"retries":{"type":"integer","default":5,"between":[0,32767]}},
    {"protocol":{"type":"string","required":true,"default":"http","one_of":)" + protocols + R"(}},
    {"host":{"type":"string","required":true}},
    {"port":{"type":"integer","required":true,"default":80,"between":[0,65535]}},
    {"path":{"type":"string","starts_with":"/"}},
    {"connect_timeout":{"type":"integer","default":60000,"between":[1,2147483646]}},
    {"write_timeout":{"type":"integer","default":60000,"between":[1,2147483646]}},
    {"read_timeout":{"type":"integer","default":60000,"between":[1,2147483646]}},
    )" + tags + R"(,
    {"client_certificate":{"type":"foreign","reference":"certificates"}},
    {"tls_verify":{"type":"boolean"}},
    {"tls_verify_depth":{"type":"integer","default":null,"between":[0,64]}},
    {"ca_certificates":{"type":"array","elements":{"type":"string","uuid":true}}},
    {"enabled":{"type":"boolean","required":true,"default":true}})");
  s.emplace_back("routes", head + "," + updated + R"(,
    {"name":{"type":"string","unique":true,"indexed":true}},
    {"protocols":{"type":"set","required":true,"default":["http","https"],
      "elements":{"type":"string","one_of":)" + protocols + R"(}}},
    {"methods":{"type":"set","elements":{"type":"string","match":"^%u+$"}}},
    {"hosts":{"type":"array","elements":{"type":"string"}}},
    {"paths":{"type":"array","elements":{"type":"string"}}},
    {"headers":{"type":"map","keys":{"type":"string"},
      "values":{"type":"array","elements":{"type":"string"}}}},
    {"https_redirect_status_code":{"type":"integer","required":true,"default":426,
      "one_of":[426,301,302,307,308]}},
    {"regex_priority":{"type":"integer","default":0}},
    {"strip_path":{"type":"boolean","required":true,"default":true}},
    {"path_handling":{"type":"string","default":"v0","one_of":["v0","v1"]}},
    {"preserve_host":{"type":"boolean","required":true,"default":false}},
    {"request_buffering":{"type":"boolean","required":true,"default":true}},
    {"response_buffering":{"type":"boolean","required":true,"default":true}},
    {"snis":{"type":"set","elements":{"type":"string"}}},
    {"sources":{"type":"set","elements":{"type":"record","fields":[
      {"ip":{"type":"string"}},{"port":{"type":"integer","between":[0,65535]}}]}}},
    {"destinations":{"type":"set","elements":{"type":"record","fields":[
      {"ip":{"type":"string"}},{"port":{"type":"integer","between":[0,65535]}}]}}},
    )" + tags + R"(,
    {"service":{"type":"foreign","reference":"services"}})");
  s.emplace_back("upstreams", head + "," + updated + R"(,
    {"name":{"type":"string","required":true,"unique":true,"indexed":true}},
    {"algorithm":{"type":"string","default":"round-robin",
      "one_of":["consistent-hashing","least-connections","round-robin","latency"]}},
    {"hash_on":{"type":"string","default":"none","one_of":
      ["none","consumer","ip","header","cookie","path","query_arg","uri_capture"]}},
    {"hash_fallback":{"type":"string","default":"none","one_of":
      ["none","consumer","ip","header","cookie","path","query_arg","uri_capture"]}},
    {"hash_on_header":{"type":"string"}},
    {"hash_fallback_header":{"type":"string"}},
    {"hash_on_cookie":{"type":"string"}},
    {"hash_on_cookie_path":{"type":"string","default":"/","starts_with":"/"}},
    {"hash_on_query_arg":{"type":"string","len_min":1}},
    {"hash_fallback_query_arg":{"type":"string","len_min":1}},
    {"hash_on_uri_capture":{"type":"string","len_min":1}},
    {"hash_fallback_uri_capture":{"type":"string","len_min":1}},
    {"slots":{"type":"integer","default":10000,"between":[10,65536]}},
    {"healthchecks":{"type":"record","default":{},"fields":[
      {"active":{"type":"record","fields":[
        {"type":{"type":"string","default":"http","one_of":["tcp","http","https","grpc","grpcs"]}},
        {"timeout":{"type":"number","default":1,"between":[0,65535]}},
        {"concurrency":{"type":"integer","default":10,"between":[1,2147483648]}},
        {"http_path":{"type":"string","default":"/","starts_with":"/"}},
        {"https_sni":{"type":"string"}},
        {"https_verify_certificate":{"type":"boolean","default":true}},
        {"headers":{"type":"map","keys":{"type":"string"},
          "values":{"type":"array","elements":{"type":"string"}}}},
        {"healthy":{"type":"record","fields":[
          {"interval":{"type":"number","default":0,"between":[0,65535]}},
          {"http_statuses":{"type":"array","default":[200,302],
            "elements":{"type":"integer","between":[200,999]}}},
          {"successes":{"type":"integer","default":0,"between":[0,255]}}]}},
        {"unhealthy":{"type":"record","fields":[
          {"interval":{"type":"number","default":0,"between":[0,65535]}},
          {"http_statuses":{"type":"array","default":[429,404,500,501,502,503,504,505],
            "elements":{"type":"integer","between":[200,999]}}},
          {"tcp_failures":{"type":"integer","default":0,"between":[0,255]}},
          {"timeouts":{"type":"integer","default":0,"between":[0,255]}},
          {"http_failures":{"type":"integer","default":0,"between":[0,255]}}]}}]}},
      {"passive":{"type":"record","fields":[
        {"type":{"type":"string","default":"http","one_of":["tcp","http","https","grpc","grpcs"]}},
        {"healthy":{"type":"record","fields":[
          {"http_statuses":{"type":"array",
            "default":[200,201,202,203,204,205,206,207,208,226,300,301,302,303,304,305,306,307,308],
            "elements":{"type":"integer","between":[200,999]}}},
          {"successes":{"type":"integer","default":0,"between":[0,255]}}]}},
        {"unhealthy":{"type":"record","fields":[
          {"http_statuses":{"type":"array","default":[429,500,503],
            "elements":{"type":"integer","between":[200,999]}}},
          {"tcp_failures":{"type":"integer","default":0,"between":[0,255]}},
          {"timeouts":{"type":"integer","default":0,"between":[0,255]}},
          {"http_failures":{"type":"integer","default":0,"between":[0,255]}}]}}]}},
      {"threshold":{"type":"number","default":0,"between":[0,100]}}]}},
    )" + tags + R"(,
    {"host_header":{"type":"string"}},
    {"client_certificate":{"type":"foreign","reference":"certificates"}},
    {"use_srv_name":{"type":"boolean","default":false}})");
  s.emplace_back("targets", head + "," + updated + R"(,
    {"upstream":{"type":"foreign","reference":"upstreams","required":true,"on_delete":"cascade"}},
    {"target":{"type":"string","required":true}},
    {"weight":{"type":"integer","default":100,"between":[0,65535]}},
    )" + tags);
  s.emplace_back("consumers", head + "," + updated + R"(,
    {"username":{"type":"string","unique":true,"indexed":true}},
    {"custom_id":{"type":"string","unique":true,"indexed":true}},
    )" + tags);
  s.emplace_back("plugins", head + "," + updated + R"(,
    {"name":{"type":"string","required":true,"indexed":true}},
    {"instance_name":{"type":"string","unique":true}},
    {"consumer":{"type":"foreign","reference":"consumers","default":null,"on_delete":"cascade"}},
    {"service":{"type":"foreign","reference":"services","default":null,"on_delete":"cascade"}},
    {"route":{"type":"foreign","reference":"routes","default":null,"on_delete":"cascade"}},
    {"config":{"type":"record","abstract":true}},
    {"protocols":{"type":"set","required":true,"default":["grpc","grpcs","http","https"],
      "elements":{"type":"string","one_of":)" + protocols + R"(}}},
    {"enabled":{"type":"boolean","default":true}},
    )" + tags);
  s.emplace_back("certificates", head + "," + updated + R"(,
    {"cert":{"type":"string","required":true,"referenceable":true}},
    {"key":{"type":"string","required":true,"referenceable":true,"encrypted":true}},
    {"cert_alt":{"type":"string","referenceable":true}},
    {"key_alt":{"type":"string","referenceable":true,"encrypted":true}},
    )" + tags);
  s.emplace_back("snis", head + "," + updated + R"(,
    {"name":{"type":"string","required":true,"unique":true,"indexed":true}},
    {"certificate":{"type":"foreign","reference":"certificates","required":true}},
    )" + tags);
  s.emplace_back("ca_certificates", head + "," + updated + R"(,
    {"cert":{"type":"string","required":true}},
    {"cert_digest":{"type":"string","unique":true}},
    )" + tags);
  s.emplace_back("keyauth_credentials",
                 consumerCredential(
                     R"({"key":{"type":"string","required":false,"unique":true,"auto":true,
                         "encrypted":true}},
                        {"ttl":{"type":"integer"}})"));
  s.emplace_back("basicauth_credentials",
                 consumerCredential(
                     R"({"username":{"type":"string","required":true,"unique":true}},
                        {"password":{"type":"string","required":true,"encrypted":true}})"));
  s.emplace_back("jwt_secrets",
                 consumerCredential(
                     R"({"key":{"type":"string","required":false,"unique":true}},
                        {"secret":{"type":"string","auto":true}},
                        {"rsa_public_key":{"type":"string"}},
                        {"algorithm":{"type":"string","default":"HS256","one_of":
                          ["HS256","HS384","HS512","RS256","RS384","RS512",
                           "ES256","ES384","ES512"]}})"));
  s.emplace_back("acls", consumerCredential(R"({"group":{"type":"string","required":true}})"));
  for (auto& [name, fields] : s) fields = R"({"fields":[)" + fields + "]}";
  return s;
}

const std::vector<std::pair<std::string, std::string>>& documents() {
  static const auto all = build();
  return all;
}

}  // namespace

const std::vector<std::string>& schemaEntities() {
  static const auto names = [] {
    std::vector<std::string> out;
    for (const auto& [name, doc] : documents()) out.push_back(name);
    return out;
  }();
  return names;
}

std::optional<boost::json::value> entitySchema(std::string_view entity) {
  for (const auto& [name, doc] : documents()) {
    if (name == entity) return boost::json::parse(doc);
  }
  return std::nullopt;
}

}  // namespace archway::admin

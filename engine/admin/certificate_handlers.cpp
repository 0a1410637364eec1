#include "admin/certificate_handlers.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <chrono>
#include <set>

#include "admin/entity_handlers.h"
#include "admin/handler_base.h"
#include "admin/paging.h"
#include "admin/request_body.h"
#include "config/entity_json.h"
#include "config/json_shapes.h"
#include "config/pem.h"
#include "core/uuid.h"

namespace archway::admin {
namespace json = boost::json;

namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AdminResponse notFound() { return messageResponse(404, "Not found"); }
AdminResponse methodNotAllowed() { return messageResponse(405, "Method not allowed"); }
AdminResponse noContent() { return {204, ""}; }

// Kong's restrict on delete (db/errors.lua foreign_key_violation_restricted).
AdminResponse referencedBy(std::string_view child, std::string_view parent) {
  return jsonResponse(
      400, json::object{{"code", 4},
                        {"name", "foreign key violation"},
                        {"message", "an existing '" + std::string(child) +
                                        "' entity references this '" + std::string(parent) +
                                        "' entity"},
                        {"fields", json::object{{"@referenced_by", child}}}});
}

// Kong's ca_certificates DAO refuses to delete a CA a service still trusts (code 19).
AdminResponse caReferenced(const std::string& caId, const std::string& serviceId) {
  return jsonResponse(400, json::object{{"code", 19},
                                        {"name", "referenced by others"},
                                        {"message", "ca certificate " + caId +
                                                        " is still referenced by services (id = " +
                                                        serviceId + ")"}});
}

void dropNulls(json::object& o) {
  for (auto it = o.begin(); it != o.end();) {
    if (it->value().is_null())
      it = o.erase(it);
    else
      ++it;
  }
}

// A body's reference to a certificate: "id" or {"id": "id"}; empty string when malformed.
std::optional<std::string> certificateRef(const json::object& body) {
  auto it = body.find("certificate");
  if (it == body.end() || it->value().is_null()) return std::nullopt;
  const auto& v = it->value();
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_object()) {
    if (auto* id = v.as_object().if_contains("id"); id && id->is_string())
      return std::string(id->as_string());
  }
  return std::string();
}

// A list body field as strings (a form's single value is one name).
core::Result<std::vector<std::string>> stringList(const json::value& v, const char* field) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (v.is_string()) return std::vector<std::string>{std::string(v.as_string())};
  if (!v.is_array()) return core::Error{field, "expected a set"};
  core::Errors errors;
  for (std::size_t i = 0; i < v.as_array().size(); ++i) {
    const auto& x = v.as_array()[i];
    if (x.is_string())
      out.emplace_back(x.as_string());
    else
      errors.push_back({std::string(field) + "[" + std::to_string(i) + "]", "expected a string"});
  }
  if (!errors.empty()) return errors;
  return out;
}

class Handler : public HandlerBase {
 public:
  using HandlerBase::HandlerBase;

  std::optional<AdminResponse> route() {
    if (segs_.empty()) return std::nullopt;
    const std::string& top = segs_[0];
    if (top == "certificates") return certificates();
    if (top == "snis") return snis();
    if (top == "ca_certificates") return caCertificates();
    if (top == "tags") return tags();
    return std::nullopt;
  }

 private:
  // ------------------------------------------------------------------ lookups
  const core::Certificate* certificateById(const core::Config& c, const std::string& id) const {
    for (const auto& x : c.certificates)
      if (x.id == id) return &x;
    return nullptr;
  }
  // Kong addresses a certificate by id or by one of its sni names.
  const core::Certificate* certificateByKey(const std::string& key) const {
    if (auto* c = certificateById(cfg(), key)) return c;
    if (auto* s = sniByKey(key)) return certificateById(cfg(), s->certificateId);
    return nullptr;
  }
  const core::Sni* sniByKey(const std::string& key) const {
    for (const auto& x : cfg().snis)
      if (x.id == key) return &x;
    for (const auto& x : cfg().snis)
      if (x.name == key) return &x;
    return nullptr;
  }
  const core::CaCertificate* caByKey(const std::string& key) const {
    for (const auto& x : cfg().caCertificates)
      if (x.id == key) return &x;
    return nullptr;
  }

  // A certificate as Kong answers it: with the (sorted) names of its snis.
  static json::object certificateJson(const core::Config& c, const core::Certificate& cert) {
    json::object o = config::toJson(cert);
    std::vector<std::string> names;
    for (const auto& s : c.snis)
      if (s.certificateId == cert.id) names.push_back(s.name);
    std::sort(names.begin(), names.end());
    json::array a;
    for (auto& n : names) a.emplace_back(n);
    o["snis"] = std::move(a);
    return o;
  }

  // ------------------------------------------------------------------ certificates
  std::optional<AdminResponse> certificates() {
    const auto& s = segs_;
    if (s.size() == 1) {
      if (get_) {
        std::optional<TagFilter> tags;
        if (auto bad = parseTagFilter(params_, tags)) return *bad;
        std::vector<const core::Certificate*> list;
        for (const auto& c : cfg().certificates)
          if (!tags || tags->matches(c.tags)) list.push_back(&c);
        return pageRange(list.size(), "certificates", params_, tags ? tags->query() : "",
                         [&](std::size_t i) -> json::value {
                           return certificateJson(cfg(), *list[i]);
                         });
      }
      if (method_ != "POST") return methodNotAllowed();
      return writeCertificate(nullptr, "");
    }
    const core::Certificate* cert = certificateByKey(s[1]);
    if (s.size() == 2) {
      if (get_) return cert ? jsonResponse(200, certificateJson(cfg(), *cert)) : notFound();
      if (method_ == "DELETE") return cert ? deleteCertificate(*cert) : noContent();
      if (method_ == "PATCH") return cert ? writeCertificate(cert, s[1]) : notFound();
      if (method_ == "PUT") return writeCertificate(cert, s[1]);
      return methodNotAllowed();
    }
    if (s[2] != "snis" || s.size() > 4) return notFound();
    if (!cert) return notFound();
    if (s.size() == 3) {
      if (get_) return pageSnis(cert->id, "certificates/" + cert->id + "/snis");
      if (method_ != "POST") return methodNotAllowed();
      return writeSni(nullptr, "", cert->id);
    }
    const core::Sni* sni = sniByKey(s[3]);
    const bool belongs = sni && sni->certificateId == cert->id;
    if (get_) return belongs ? jsonResponse(200, config::toJson(*sni)) : notFound();
    if (method_ == "DELETE") return belongs ? deleteSni(*sni) : noContent();
    if (sni && !belongs) return notFound();
    if (method_ == "PATCH") return sni ? writeSni(sni, s[3], cert->id) : notFound();
    if (method_ == "PUT") return writeSni(sni, s[3], cert->id);
    return methodNotAllowed();
  }

  AdminResponse deleteCertificate(const core::Certificate& cert) const {
    for (const auto& svc : cfg().services)
      if (svc.clientCertificate == cert.id) return referencedBy("services", "certificates");
    for (const auto& u : cfg().upstreams)
      if (u.clientCertificate == cert.id) return referencedBy("upstreams", "certificates");
    core::Config next = cfg();
    const std::string id = cert.id;
    std::erase_if(next.certificates, [&](const core::Certificate& x) { return x.id == id; });
    // SNIs go with their certificate.
    std::erase_if(next.snis, [&](const core::Sni& x) { return x.certificateId == id; });
    return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
  }

  AdminResponse writeCertificate(const core::Certificate* existing, const std::string& key) {
    auto b = body();
    if (!b) return messageResponse(400, b.errors().front().message);
    json::object fields = std::move(b->fields);
    if (b->kind == BodyKind::form) formArrays(fields, {"tags", "snis"});
    json::object input;
    if (method_ == "PATCH") {
      input = config::toJson(*existing);
      for (const auto& [k, v] : fields) input[k] = v;
    } else {
      input = fields;
    }
    // The sni set: the body's, else the existing one (Kong keeps it when `snis` is absent).
    std::optional<std::vector<std::string>> names;
    if (auto* v = fields.if_contains("snis")) {
      auto list = stringList(*v, "snis");
      if (!list) return schemaViolation(list.errors());
      names = std::move(list.value());
    }
    input.erase("snis");
    input.erase("created_at");
    input.erase("updated_at");
    const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
    if (!bodyHasId) input.erase("id");
    dropNulls(input);
    auto parsed = config::certificateFromJson(input);
    if (!parsed) return schemaViolation(parsed.errors());
    core::Certificate c = std::move(parsed.value());
    const auto now = nowSeconds();
    if (existing) {
      c.id = existing->id;
      c.createdAt = existing->createdAt;
    } else {
      c.id = bodyHasId ? c.id : (method_ == "PUT" && core::isUuid(key) ? key : core::uuid4());
      c.createdAt = now;
      // PUT /certificates/{sni name} creates the certificate serving that name.
      if (method_ == "PUT" && !core::isUuid(key)) {
        if (!names) names.emplace();
        if (std::find(names->begin(), names->end(), key) == names->end()) names->push_back(key);
      }
    }
    c.updatedAt = now;
    if (!existing && certificateById(cfg(), c.id)) return primaryKeyViolationResponse(c.id);

    core::Config next = cfg();
    if (names) {
      core::Errors errors;
      std::set<std::string> seen;
      for (std::size_t i = 0; i < names->size(); ++i) {
        const std::string& n = (*names)[i];
        const std::string p = "snis[" + std::to_string(i) + "]";
        if (auto e = config::checkSniName(n)) errors.push_back({p, *e});
        else if (!seen.insert(n).second) errors.push_back({p, n + " is duplicated"});
      }
      if (!errors.empty()) return schemaViolation(errors);
      for (const auto& n : *names) {
        for (const auto& other : cfg().snis)
          if (other.name == n && other.certificateId != c.id)
            return uniqueViolationResponse("name", n);
      }
      std::erase_if(next.snis, [&](const core::Sni& x) {
        return x.certificateId == c.id && !seen.count(x.name);
      });
      for (const auto& n : *names) {
        const bool kept = std::any_of(next.snis.begin(), next.snis.end(), [&](const core::Sni& x) {
          return x.certificateId == c.id && x.name == n;
        });
        if (kept) continue;
        core::Sni sni;
        sni.id = core::uuid4();
        sni.name = n;
        sni.certificateId = c.id;
        sni.createdAt = sni.updatedAt = now;
        next.snis.push_back(std::move(sni));
      }
    }
    auto at = std::find_if(next.certificates.begin(), next.certificates.end(),
                           [&](const core::Certificate& x) { return x.id == c.id; });
    if (at != next.certificates.end())
      *at = c;
    else
      next.certificates.push_back(c);
    const std::string id = c.id;
    return commit(std::move(next), method_ == "POST" ? 201 : 200,
                  [&](const core::Config& now) -> std::optional<json::object> {
                    if (auto* x = certificateById(now, id)) return certificateJson(now, *x);
                    return std::nullopt;
                  });
  }

  // ------------------------------------------------------------------ snis
  std::optional<AdminResponse> snis() {
    const auto& s = segs_;
    if (s.size() == 1) {
      if (get_) return pageSnis(std::nullopt, "snis");
      if (method_ != "POST") return methodNotAllowed();
      return writeSni(nullptr, "", std::nullopt);
    }
    const core::Sni* sni = sniByKey(s[1]);
    if (s.size() == 2) {
      if (get_) return sni ? jsonResponse(200, config::toJson(*sni)) : notFound();
      if (method_ == "DELETE") return sni ? deleteSni(*sni) : noContent();
      if (method_ == "PATCH") return sni ? writeSni(sni, s[1], std::nullopt) : notFound();
      if (method_ == "PUT") return writeSni(sni, s[1], std::nullopt);
      return methodNotAllowed();
    }
    if (s.size() == 3 && s[2] == "certificate") {
      if (!get_) return methodNotAllowed();
      if (!sni) return notFound();
      const core::Certificate* c = certificateById(cfg(), sni->certificateId);
      return c ? jsonResponse(200, certificateJson(cfg(), *c)) : notFound();
    }
    return notFound();
  }

  AdminResponse pageSnis(const std::optional<std::string>& certificateId,
                         const std::string& collection) const {
    std::vector<core::Sni> list;
    for (const auto& x : cfg().snis)
      if (!certificateId || x.certificateId == *certificateId) list.push_back(x);
    return page(list, collection, params_);
  }

  AdminResponse deleteSni(const core::Sni& sni) const {
    core::Config next = cfg();
    const std::string id = sni.id;
    std::erase_if(next.snis, [&](const core::Sni& x) { return x.id == id; });
    return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
  }

  AdminResponse writeSni(const core::Sni* existing, const std::string& key,
                         const std::optional<std::string>& fixedCertificate) {
    auto b = body();
    if (!b) return messageResponse(400, b.errors().front().message);
    json::object fields = std::move(b->fields);
    if (b->kind == BodyKind::form) formArrays(fields, {"tags"});
    // The certificate: the nested path's, the body's, or the existing one (PATCH).
    std::optional<std::string> certificateId;
    if (existing && method_ == "PATCH") certificateId = existing->certificateId;
    if (fixedCertificate) {
      certificateId = fixedCertificate;
    } else if (fields.contains("certificate")) {
      auto ref = certificateRef(fields);
      if (ref && ref->empty())
        return schemaViolation({{"certificate", "expected a record with id"}});
      if (ref) {
        if (!certificateById(cfg(), *ref))
          return foreignKeyMissingResponse("certificate", "certificates", *ref);
        certificateId = ref;
      } else {
        certificateId.reset();
      }
    }
    json::object input;
    if (method_ == "PATCH") {
      input = config::toJson(*existing);
      for (const auto& [k, v] : fields) input[k] = v;
    } else {
      input = fields;
    }
    input.erase("certificate");
    input.erase("created_at");
    input.erase("updated_at");
    const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
    if (!bodyHasId) input.erase("id");
    dropNulls(input);
    if (method_ == "PUT" && !core::isUuid(key)) input["name"] = key;
    auto parsed = config::sniFromJson(input);
    core::Errors errors;
    if (!parsed) errors = parsed.errors();
    if (!certificateId) errors.push_back({"certificate", "required field missing"});
    if (!errors.empty()) return schemaViolation(errors);
    core::Sni sni = std::move(parsed.value());
    sni.certificateId = *certificateId;
    stamp(sni, existing, bodyHasId, key, nowSeconds());
    for (const auto& other : cfg().snis) {
      if (other.id == sni.id && !existing) return primaryKeyViolationResponse(sni.id);
      if (other.id != sni.id && other.name == sni.name)
        return uniqueViolationResponse("name", sni.name);
    }
    return upsert(cfg(), &core::Config::snis, std::move(sni));
  }

  // ------------------------------------------------------------------ ca_certificates
  std::optional<AdminResponse> caCertificates() {
    const auto& s = segs_;
    if (s.size() == 1) {
      if (get_) return page(cfg().caCertificates, "ca_certificates", params_);
      if (method_ != "POST") return methodNotAllowed();
      return writeCa(nullptr, "");
    }
    if (s.size() != 2) return notFound();
    const core::CaCertificate* ca = caByKey(s[1]);
    if (get_) return ca ? jsonResponse(200, config::toJson(*ca)) : notFound();
    if (method_ == "DELETE") {
      if (!ca) return noContent();
      for (const auto& svc : cfg().services) {
        if (std::find(svc.caCertificates.begin(), svc.caCertificates.end(), ca->id) !=
            svc.caCertificates.end())
          return caReferenced(ca->id, svc.id);
      }
      core::Config next = cfg();
      const std::string id = ca->id;
      std::erase_if(next.caCertificates, [&](const core::CaCertificate& x) { return x.id == id; });
      return commit(std::move(next), 204, [](const core::Config&) { return std::optional<json::object>(); });
    }
    if (method_ == "PATCH") return ca ? writeCa(ca, s[1]) : notFound();
    if (method_ == "PUT") {
      if (!ca && !core::isUuid(s[1]))
        return jsonResponse(400, json::object{{"code", 1},
                                              {"name", "invalid primary key"},
                                              {"message", "invalid primary key: '{id=\"" + s[1] +
                                                              "\"}'"},
                                              {"fields", json::object{{"id", "expected a valid UUID"}}}});
      return writeCa(ca, s[1]);
    }
    return methodNotAllowed();
  }

  AdminResponse writeCa(const core::CaCertificate* existing, const std::string& key) {
    auto b = body();
    if (!b) return messageResponse(400, b.errors().front().message);
    json::object fields = std::move(b->fields);
    if (b->kind == BodyKind::form) formArrays(fields, {"tags"});
    json::object input;
    if (method_ == "PATCH") {
      input = config::toJson(*existing);
      for (const auto& [k, v] : fields) input[k] = v;
    } else {
      input = fields;
    }
    input.erase("cert_digest");
    input.erase("created_at");
    input.erase("updated_at");
    const bool bodyHasId = fields.contains("id") && !fields.at("id").is_null();
    if (!bodyHasId) input.erase("id");
    dropNulls(input);
    auto parsed = config::caCertificateFromJson(input);
    if (!parsed) return schemaViolation(parsed.errors());
    core::CaCertificate ca = std::move(parsed.value());
    // (A PUT creating a CA certificate has a UUID key: other keys were refused above.)
    stamp(ca, existing, bodyHasId, key, nowSeconds());
    for (const auto& other : cfg().caCertificates) {
      if (other.id == ca.id && !existing) return primaryKeyViolationResponse(ca.id);
      if (other.id != ca.id && other.certDigest == ca.certDigest)
        return uniqueViolationResponse("cert_digest", ca.certDigest);
    }
    return upsert(cfg(), &core::Config::caCertificates, std::move(ca));
  }

  // ------------------------------------------------------------------ tags
  struct TagRow {
    const char* entity;
    const std::string* id;
    const std::string* tag;
  };

  template <class Entity>
  static void collect(std::vector<TagRow>& rows, const char* name, const std::vector<Entity>& all,
                      const std::string* only) {
    for (const auto& e : all) {
      for (const auto& t : e.tags)
        if (!only || t == *only) rows.push_back({name, &e.id, &t});
    }
  }

  std::optional<AdminResponse> tags() {
    const auto& s = segs_;
    if (s.size() > 2) return notFound();
    if (!get_) return methodNotAllowed();
    const std::string* only = s.size() == 2 ? &s[1] : nullptr;
    if (only) {
      if (auto e = [&]() -> std::optional<std::string> {
            for (unsigned char c : *only)
              if (c == ',' || c == '/' || c < 0x20) return "invalid tag";
            return std::nullopt;
          }())
        return messageResponse(400, *e);
    }
    const core::Config& c = cfg();
    std::vector<TagRow> rows;
    collect(rows, "services", c.services, only);
    collect(rows, "routes", c.routes, only);
    collect(rows, "upstreams", c.upstreams, only);
    collect(rows, "targets", c.targets, only);
    collect(rows, "consumers", c.consumers, only);
    collect(rows, "plugins", c.plugins, only);
    collect(rows, "certificates", c.certificates, only);
    collect(rows, "snis", c.snis, only);
    collect(rows, "ca_certificates", c.caCertificates, only);
    collect(rows, "keyauth_credentials", c.keyauthCredentials, only);
    collect(rows, "basicauth_credentials", c.basicauthCredentials, only);
    collect(rows, "jwt_secrets", c.jwtSecrets, only);
    collect(rows, "acls", c.acls, only);
    const std::string collection = only ? "tags/" + *only : std::string("tags");
    return pageRange(rows.size(), collection, params_, "", [&](std::size_t i) -> json::value {
      return json::object{
          {"entity_name", rows[i].entity}, {"entity_id", *rows[i].id}, {"tag", *rows[i].tag}};
    });
  }
};

}  // namespace

std::optional<AdminResponse> handleCertificates(const AdminContext& ctx, const AdminRequest& req,
                                                const std::vector<std::string>& segs,
                                                std::string_view target) {
  if (segs.empty() || (segs[0] != "certificates" && segs[0] != "snis" &&
                       segs[0] != "ca_certificates"))
    return std::nullopt;
  Handler h(ctx, req, segs, target);
  return h.route();
}

std::optional<AdminResponse> handleTags(const AdminContext& ctx, const AdminRequest& req,
                                        const std::vector<std::string>& segs,
                                        std::string_view target) {
  if (segs.empty() || segs[0] != "tags") return std::nullopt;
  Handler h(ctx, req, segs, target);
  return h.route();
}

}  // namespace archway::admin

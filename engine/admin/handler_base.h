#pragma once
// What the Admin API's entity handler classes share (plugin_handlers.cpp,
// certificate_handlers.cpp): the request, its parsed query, the config it reads and commit(),
// which applies a changed copy and answers with the entity as the new config holds it.
#include <algorithm>
#include <boost/url/params_view.hpp>
#include <cstdint>
#include <boost/url/parse.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"
#include "admin/entity_handlers.h"
#include "admin/request_body.h"
#include "config/json_shapes.h"
#include "core/uuid.h"

namespace archway::admin {

class HandlerBase {
 public:
  HandlerBase(const AdminContext& ctx, const AdminRequest& req,
              const std::vector<std::string>& segs, std::string_view target)
      : ctx_(ctx), req_(req), segs_(segs) {
    cfgPtr_ = ctx.config ? ctx.config() : nullptr;
    if (!cfgPtr_) cfgPtr_ = std::make_shared<const core::Config>();
    auto url = boost::urls::parse_origin_form(target);
    if (url) params_ = url->params();
    method_ = req.method;
    get_ = method_ == "GET" || method_ == "HEAD";
  }

 protected:
  const core::Config& cfg() const { return *cfgPtr_; }

  core::Result<ParsedBody> body() const { return parseRequestBody(req_.body, req_.contentType); }

  // Applies `next`; the answer is `render(newConfig)` (an optional JSON object) with `status`.
  template <class F>
  AdminResponse commit(core::Config next, int status, F render) const {
    if (!ctx_.apply) return messageResponse(405, "cannot change the configuration of this node");
    auto applied = ctx_.apply(std::move(next));
    if (!applied) return applyFailureResponse(applied.errors());
    if (status == 204) return {204, ""};
    auto now = ctx_.config ? ctx_.config() : nullptr;
    if (!now) return messageResponse(500, "An unexpected error occurred");
    auto out = render(*now);
    if (!out) return messageResponse(500, "An unexpected error occurred");
    return jsonResponse(status, *out);
  }

  // An entity's id and timestamps on a write: an existing entity keeps its id and created_at; a
  // new one takes the body's id, else the PUT key when it is a UUID, else a fresh UUID.
  template <class E>
  void stamp(E& e, const E* existing, bool bodyHasId, const std::string& key,
             std::int64_t now) const {
    if (existing) {
      e.id = existing->id;
      e.createdAt = existing->createdAt;
    } else {
      if (!bodyHasId) e.id = method_ == "PUT" && core::isUuid(key) ? key : core::uuid4();
      e.createdAt = now;
    }
    e.updatedAt = now;
  }

  // Puts `e` in place of the entity of `list` with its id (or appends it), applies, and answers
  // with the entity as the new config holds it: 201 on POST, 200 otherwise.
  template <class E>
  AdminResponse upsert(core::Config next, std::vector<E> core::Config::*list, E e) const {
    auto& all = next.*list;
    const std::string id = e.id;
    auto at = std::find_if(all.begin(), all.end(), [&](const E& x) { return x.id == id; });
    if (at != all.end())
      *at = std::move(e);
    else
      all.push_back(std::move(e));
    return commit(std::move(next), method_ == "POST" ? 201 : 200,
                  [&](const core::Config& now) -> std::optional<boost::json::object> {
                    for (const auto& x : now.*list)
                      if (x.id == id) return config::toJson(x);
                    return std::nullopt;
                  });
  }

  const AdminContext& ctx_;
  const AdminRequest& req_;
  const std::vector<std::string>& segs_;
  std::shared_ptr<const core::Config> cfgPtr_;
  boost::urls::params_view params_;
  std::string_view method_;
  bool get_ = false;
};

}  // namespace archway::admin

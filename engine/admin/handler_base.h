#pragma once
// What the Admin API's entity handler classes share (plugin_handlers.cpp,
// certificate_handlers.cpp): the request, its parsed query, the config it reads and commit(),
// which applies a changed copy and answers with the entity as the new config holds it.
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"
#include "admin/entity_handlers.h"
#include "admin/request_body.h"

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

  const AdminContext& ctx_;
  const AdminRequest& req_;
  const std::vector<std::string>& segs_;
  std::shared_ptr<const core::Config> cfgPtr_;
  boost::urls::params_view params_;
  std::string_view method_;
  bool get_ = false;
};

}  // namespace archway::admin

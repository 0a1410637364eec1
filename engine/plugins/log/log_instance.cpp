#include "plugins/log/log_instance.h"

#include "core/log.h"

namespace archway::plugins::log {

void QueuedLogInstance::log(Context& ctx) const {
  if (!accepts(ctx)) return;
  // Per worker thread, so the line keeps its capacity from request to request.
  thread_local std::string line;
  line.clear();
  serializer_->serialize(ctx, line);
  queue_->enqueue(line, tag(ctx));
  if (line.capacity() > 1 << 20) std::string().swap(line);  // one huge line is not kept
}

std::shared_ptr<const Serializer> sharedSerializer(CompileEnv& env) {
  return env.shared<Serializer>(
      "log.serializer", [&env] { return std::make_shared<const Serializer>(env.config()); });
}

void warnIgnoredLua(std::string_view plugin, const core::Plugin& entity,
                    const boost::json::object& config) {
  auto it = config.find("custom_fields_by_lua");
  if (it == config.end() || !it->value().is_object() || it->value().as_object().empty()) return;
  core::log::warn("custom_fields_by_lua is not supported and is ignored",
                  {{"plugin", std::string(plugin)}, {"id", entity.id}});
}

QueueSettings unqueuedPluginSettings() {
  QueueSettings s;
  s.maxBatchSize = 1000;
  s.maxCoalescingDelay = 0;
  s.maxEntries = 10000;
  s.maxRetryTime = -1;
  s.drainAvailable = true;
  return s;
}

}  // namespace archway::plugins::log

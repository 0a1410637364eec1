#pragma once
// What every log plugin compiles to: in the log phase, serialize the request (Kong's
// kong.log.serialize) and queue the line for the plugin's sender thread. The worker does no
// I/O and takes no lock; the plugin's Handler does the writing on the sender.
#include <boost/json/object.hpp>
#include <memory>
#include <string_view>

#include "plugins/log/queue.h"
#include "plugins/log/serializer.h"
#include "plugins/plugin.h"

namespace archway::plugins::log {

class QueuedLogInstance : public Instance {
 public:
  QueuedLogInstance(std::shared_ptr<const Serializer> serializer, std::shared_ptr<LogQueue> queue)
      : serializer_(std::move(serializer)), queue_(std::move(queue)) {}

  std::uint8_t phases() const override { return kLog; }
  void log(Context& ctx) const override;

  const std::shared_ptr<LogQueue>& queue() const { return queue_; }

 protected:
  // Whether this request is logged at all (syslog filters by severity); the queue entry's tag.
  virtual bool accepts(const Context&) const { return true; }
  virtual int tag(const Context& ctx) const { return ctx.status; }

 private:
  std::shared_ptr<const Serializer> serializer_;
  std::shared_ptr<LogQueue> queue_;
};

// The snapshot's serializer (entity copies rendered once per config), shared by every log
// plugin instance of the snapshot.
std::shared_ptr<const Serializer> sharedSerializer(CompileEnv& env);

// Kong's custom_fields_by_lua is accepted for compatibility but cannot run here: warn once per
// compile when a config sets it.
void warnIgnoredLua(std::string_view plugin, const core::Plugin& entity,
                    const boost::json::object& config);

// Settings of the internal queue of the plugins that have none in Kong (file-log, tcp-log,
// udp-log, syslog: Kong writes each entry from its own timer, without retries): batches of
// whatever is queued, no waiting, no retries.
QueueSettings unqueuedPluginSettings();

}  // namespace archway::plugins::log

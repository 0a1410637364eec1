#include "plugins/file_log/file_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "plugins/log/log_instance.h"
#include "plugins/log/validate.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;

// Writes batches to the file. Sender thread only.
class FileHandler final : public log::Handler {
 public:
  FileHandler(std::string path, bool reopen) : path_(std::move(path)), reopen_(reopen) {}
  ~FileHandler() override {
    if (fd_ >= 0) ::close(fd_);
  }

  bool send(std::span<const log::Entry* const> batch, std::string& error) override {
    buffer_.clear();
    for (const log::Entry* e : batch) {
      buffer_ += e->text();
      buffer_ += '\n';
    }
    if (fd_ >= 0 && reopen_) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd_ < 0) {
        error = std::string("failed to open the file: ") + std::strerror(errno);
        return false;
      }
    }
    std::string_view rest = buffer_;
    while (!rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        error = std::string("failed to write to the file: ") + std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
        return false;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (buffer_.capacity() > (4u << 20)) std::string().swap(buffer_);
    return true;
  }

 private:
  std::string path_;
  bool reopen_;
  int fd_ = -1;
  std::string buffer_;
};

class FileLogFactory final : public Factory {
 public:
  FileLogFactory() {
    using namespace schema;
    schema_.name = "file-log";
    schema_.fields = {
        str("path")
            .req()
            .validate([](const json::value& v) { return log::checkFilePath(v.as_string()); })
            .describe("The file path of the output log file. The plugin creates the log file "
                      "if it doesn't exist yet."),
        boolean("reopen").req().def(false).describe(
            "Determines whether the log file is closed and reopened on every request."),
        log::luaCodeField(),
    };
  }
  std::string_view name() const override { return "file-log"; }
  int priority() const override { return 9; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    log::warnIgnoredLua("file-log", entity, config);
    std::string path(config.at("path").as_string());
    bool reopen = config.at("reopen").as_bool();
    auto handler = std::make_shared<FileHandler>(path, reopen);
    auto queue = log::obtainQueue(env, entity.id, "file-log plugin " + entity.id,
                                  log::unqueuedPluginSettings(), handler);
    return std::shared_ptr<const Instance>(
        std::make_shared<log::QueuedLogInstance>(log::sharedSerializer(env), queue));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeFileLogPlugin() {
  return std::make_unique<FileLogFactory>();
}

}  // namespace archway::plugins

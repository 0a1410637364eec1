#include "core/idle_cgroup.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace archway::core {
namespace {

constexpr std::string_view kPrefix = "archway-background-";

// Writes `value` to a cgroup file; the errno text when the kernel refuses it.
std::string writeFile(const std::string& file, const std::string& value) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return file + ": " + std::strerror(errno);
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) return file + ": " + std::strerror(err);
  return {};
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

struct Location {
  std::string dir;  // the process's cpu cgroup directory
  bool v2 = false;
};

// The process's cpu cgroup: /proc/self/cgroup names it relative to a hierarchy's root, and
// /proc/self/mountinfo says where that hierarchy is mounted (and which part of it, `root`).
bool locate(Location& out, std::string& why) {
  std::ifstream cg("/proc/self/cgroup");
  std::string line, v1Path, v2Path;
  bool haveV2 = false;
  while (std::getline(cg, line)) {
    auto f = split(line, ':');
    if (f.size() < 3) continue;
    const std::string path = line.substr(f[0].size() + f[1].size() + 2);
    if (f[1].empty()) {
      v2Path = path;
      haveV2 = true;
    }
    for (const auto& c : split(f[1], ','))
      if (c == "cpu") v1Path = path;
  }
  std::ifstream mi("/proc/self/mountinfo");
  std::string v1Mount, v1Root, v2Mount, v2Root;
  while (std::getline(mi, line)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    std::size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash < 5 || dash + 3 >= f.size()) continue;  // ID PARENT DEV ROOT MOUNT ... - TYPE SRC OPTS
    const std::string& type = f[dash + 1];
    const std::string& super = f[dash + 3];
    if (type == "cgroup") {
      for (const auto& o : split(super, ','))
        if (o == "cpu") v1Mount = f[4], v1Root = f[3];
    } else if (type == "cgroup2" && v2Mount.empty()) {
      v2Mount = f[4], v2Root = f[3];
    }
  }
  auto join = [](const std::string& mount, const std::string& root, std::string path) {
    if (root != "/" && path.compare(0, root.size(), root) == 0) path = path.substr(root.size());
    if (path == "/") path.clear();
    return mount + path;
  };
  if (!v1Path.empty() && !v1Mount.empty()) {
    out = {join(v1Mount, v1Root, v1Path), false};
    return true;
  }
  if (haveV2 && !v2Mount.empty()) {
    out = {join(v2Mount, v2Root, v2Path), true};
    return true;
  }
  why = "no cpu cgroup is mounted";
  return false;
}

// Directories a process that exited left behind (it could not remove them while it ran).
void removeStale(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (auto* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.substr(0, kPrefix.size()) != kPrefix) continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(std::string(name.substr(kPrefix.size())).c_str()));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    ::rmdir((dir + "/" + std::string(name)).c_str());
  }
  ::closedir(d);
}

}  // namespace

std::unique_ptr<IdleCgroup> IdleCgroup::create(std::string* why) {
  std::string reason;
  auto fail = [&](std::string r) -> std::unique_ptr<IdleCgroup> {
    if (why) *why = std::move(r);
    return nullptr;
  };
  Location at;
  if (!locate(at, reason)) return fail(reason);
  removeStale(at.dir);
  // One per instance (engines in one process, e.g. tests, each have one).
  static std::atomic<unsigned> instances{0};
  const std::string path = at.dir + "/" + std::string(kPrefix) + std::to_string(::getpid()) + "-" +
                           std::to_string(instances++);
  if (::mkdir(path.c_str(), 0755) != 0)
    return fail(path + ": " + std::strerror(errno));
  auto undo = [&](std::string r) {
    ::rmdir(path.c_str());
    return fail(std::move(r));
  };
  if (at.v2) {
    // Single threads may only move within a threaded subtree; the cpu controller must be
    // enabled for the children of the process's cgroup.
    if (auto e = writeFile(path + "/cgroup.type", "threaded"); !e.empty()) return undo(e);
    if (::access((path + "/cpu.idle").c_str(), F_OK) != 0) {
      if (auto e = writeFile(at.dir + "/cgroup.subtree_control", "+cpu"); !e.empty())
        return undo(e);
    }
  }
  if (::access((path + "/cpu.idle").c_str(), F_OK) != 0)
    return undo(path + ": no cpu.idle (Linux 5.15 or later has it)");
  if (auto e = writeFile(path + "/cpu.idle", "1"); !e.empty()) return undo(e);
  const char* threads = at.v2 ? "/cgroup.threads" : "/tasks";
  return std::unique_ptr<IdleCgroup>(new IdleCgroup(path, at.dir, threads));
}

IdleCgroup::~IdleCgroup() {
  ::rmdir(path_.c_str());
}

bool IdleCgroup::enter(pid_t tid) const {
  return writeFile(path_ + threadsFile_, std::to_string(tid)).empty();
}

bool IdleCgroup::leave(pid_t tid) const {
  return writeFile(home_ + threadsFile_, std::to_string(tid)).empty();
}

}  // namespace archway::core

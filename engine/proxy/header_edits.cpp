#include "proxy/header_edits.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "http/head_writer.h"

namespace archway::proxy {

namespace {

// `name` is set or removed by an edit whose key matches (the filter said it may be).
bool replacedByEdit(const plugins::EditList& edits, std::uint32_t key, std::string_view name) {
  for (const auto& e : edits) {
    if (e.op != plugins::HeaderEdit::Op::add && e.key == key &&
        plugins::headerNameEquals(e.name, name))
      return true;
  }
  return false;
}

// An edit whose line goes out: a set or add nothing later supersedes.
bool kept(const plugins::HeaderEdit& e) {
  return e.op != plugins::HeaderEdit::Op::remove && !e.superseded;
}

}  // namespace

bool editedAway(const plugins::EditList& edits, std::string_view name) {
  const std::uint32_t key = plugins::headerNameKey(name);
  return edits.mayReplace(key) && replacedByEdit(edits, key, name);
}

std::string_view editedValue(const plugins::EditList& edits, std::string_view name) {
  const std::uint32_t key = plugins::headerNameKey(name);
  std::string_view v;
  for (const auto& e : edits) {
    if (e.key != key || !plugins::headerNameEquals(e.name, name)) continue;
    v = e.op == plugins::HeaderEdit::Op::remove ? std::string_view{} : std::string_view(e.value);
  }
  return v;
}

void appendEdited(std::string& out, const plugins::EditList& edits) {
  std::size_t bytes = 0;
  bool allTrusted = true;
  for (const auto& e : edits) {
    if (!kept(e)) continue;
    bytes += e.name.size() + e.value.size() + 4;
    allTrusted = allTrusted && e.trusted;
  }
  if (allTrusted) {  // the usual case: one resize, one copy per piece
    std::size_t at = out.size();
    out.resize(at + bytes);
    char* p = out.data() + at;
    for (const auto& e : edits) {
      if (kept(e)) p = http::writeHeaderLine(p, e.name, e.value);
    }
    return;
  }
  for (const auto& e : edits) {
    if (!kept(e)) continue;
    if (!e.trusted) {
      http::appendHeader(out, e.name, e.value);
      continue;
    }
    const std::size_t at = out.size();
    out.resize(at + e.name.size() + e.value.size() + 4);
    http::writeHeaderLine(out.data() + at, e.name, e.value);
  }
}

void appendUnedited(std::string& out, const char* base, std::span<const http::Header> headers,
                    const plugins::EditList& edits, bool dropContentLength) {
  auto stays = [&](const http::Header& h) {
    return !h.hopByHop && !(dropContentLength && h.id == http::HeaderId::contentLength) &&
           !editedAway(edits, h.name.in(base));
  };
  // The first 64 headers: which stay and their bytes, then one resize and the copies.
  const std::size_t tracked = std::min<std::size_t>(headers.size(), 64);
  std::uint64_t staying = 0;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < tracked; ++i) {
    const http::Header& h = headers[i];
    if (!stays(h)) continue;
    staying |= std::uint64_t{1} << i;
    bytes += h.name.len + h.value.len + 4;
  }
  std::size_t at = out.size();
  out.resize(at + bytes);
  char* p = out.data() + at;
  for (; staying != 0; staying &= staying - 1) {
    const http::Header& h = headers[static_cast<std::size_t>(std::countr_zero(staying))];
    p = http::writeHeaderLine(p, h.name.in(base), h.value.in(base));
  }
  for (std::size_t i = tracked; i < headers.size(); ++i) {  // rare: more than 64 headers
    if (!stays(headers[i])) continue;
    const std::string_view name = headers[i].name.in(base), value = headers[i].value.in(base);
    at = out.size();
    out.resize(at + name.size() + value.size() + 4);
    http::writeHeaderLine(out.data() + at, name, value);
  }
}

}  // namespace archway::proxy

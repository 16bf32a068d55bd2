#include "core/http/headers.h"

#include "core/http/tokens.h"

namespace tern::http {

const Header* HeaderList::find(std::string_view name) const noexcept {
  for (const Header& h : *this) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

std::string_view HeaderList::get(std::string_view name) const noexcept {
  const Header* h = find(name);
  return h ? h->value : std::string_view();
}

std::size_t HeaderList::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const Header& h : *this) n += iequals(h.name, name);
  return n;
}

bool HeaderList::has_token(std::string_view name,
                           std::string_view token) const noexcept {
  for (const Header& h : *this) {
    if (iequals(h.name, name) &&
        header_has_token(h.value, token)) {
      return true;
    }
  }
  return false;
}

}  // namespace tern::http

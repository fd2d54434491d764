// libdw (elfutils 0.188) dlopens the debuginfod client the first time a
// module has no debug file on disk, which is most reports (system binaries
// are stripped), even when DEBUGINFOD_URLS names no server and the client
// would ask none: and with it libcurl, GnuTLS, Kerberos, LDAP and twenty
// more libraries, ~15 ms of a report that otherwise takes ~5. This dlopen,
// defined in the executable, comes before the loader's for libdw's call:
// it lets the client load only when a server is configured, and passes
// every other request through unchanged. Without the client libdw goes on
// exactly as without a server (it treats a failed dlopen as "no client").
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

bool is_debuginfod_client(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return std::string_view(slash ? slash + 1 : file).starts_with("libdebuginfod");
}

bool debuginfod_server_configured() {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  return urls && std::string_view(urls).find_first_not_of(" \t") != std::string_view::npos;
}

}  // namespace

extern "C" void* dlopen(const char* file, int mode) {
  using Dlopen = void* (*)(const char*, int);
  static const Dlopen next = reinterpret_cast<Dlopen>(dlsym(RTLD_NEXT, "dlopen"));
  if (file && is_debuginfod_client(file) && !debuginfod_server_configured()) return nullptr;
  return next ? next(file, mode) : nullptr;
}

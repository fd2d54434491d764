// Uses, the way ordinary programs do, everything for which glibc, ld.so or
// libstdc++ keep memory until exit: stdio buffers, setlocale and the
// multibyte conversions of a UTF-8 locale, gettext, strerror, dlerror, NSS
// lookups, the time zone, iconv, threads, a dlopen'ed library with TLS, and
// C++ iostreams, locales and exceptions. It frees what it owns; whatever is
// live at exit is the runtimes'. Needs only the C.UTF-8 locale, root's
// entries in /etc/passwd and /etc/group (found or not, it goes on), and
// libtls_plugin.so next to it.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <iconv.h>
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <iostream>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>

// Globals with external linkage, so that the compiler keeps them in memory.
size_t g_checksum;  // keeps every result used
FILE* g_log;        // a file kept open for the whole run, like a log
void* g_plugin;     // a plugin kept loaded, like a plugin host does
int (*g_plugin_touch)(int);

namespace {

void use_stdio() {
  printf("runtime_buffers: stdout is buffered\n");
  fprintf(stderr, "runtime_buffers: stderr is not\n");
  int null = open("/dev/null", O_RDONLY);  // stdin, read without waiting on a terminal
  dup2(null, 0);
  close(null);
  char line[64];
  if (fgets(line, sizeof line, stdin)) g_checksum += strlen(line);
  if (FILE* file = fopen("/proc/self/status", "r")) {
    if (fgets(line, sizeof line, file)) g_checksum += strlen(line);
    fclose(file);
  }
  g_log = fopen("/dev/null", "w");
  if (g_log) fprintf(g_log, "started\n");
}

void use_locale() {
  setlocale(LC_ALL, "");  // C.UTF-8, from the environment
  const char* text = "\xc3\xa9t\xc3\xa9";  // "été"
  wchar_t wide[8];
  mbstate_t state{};
  g_checksum += mblen(text, 4);
  g_checksum += mbrtowc(wide, text, 4, &state);
  g_checksum += mbstowcs(wide, text, 8);
  const char* cursor = text;
  state = {};
  g_checksum += mbsrtowcs(wide, &cursor, 8, &state);
}

void use_messages() {
  bindtextdomain("runtime_buffers", "/nonexistent/locale");
  textdomain("runtime_buffers");
  g_checksum += strlen(gettext("hello"));
  g_checksum += strlen(dgettext("libc", "Success"));
  g_checksum += strlen(ngettext("file", "files", 2));
  g_checksum += strlen(strerror(ENOENT));
  g_checksum += strlen(strerror(123456));  // "Unknown error 123456": formatted per thread
  if (!dlopen("/nonexistent/libnothing.so", RTLD_NOW)) g_checksum += strlen(dlerror());
  dlopen("/nonexistent/libstillnothing.so", RTLD_NOW);  // an error left pending
}

void use_accounts() {
  if (passwd* user = getpwnam("root")) g_checksum += strlen(user->pw_dir);
  if (passwd* user = getpwuid(0)) g_checksum += strlen(user->pw_name);
  if (group* group = getgrnam("root")) g_checksum += strlen(group->gr_name);
  if (group* group = getgrgid(0)) g_checksum += strlen(group->gr_name);
}

void use_time_zone() {
  time_t now = time(nullptr);
  char text[64];
  g_checksum += strftime(text, sizeof text, "%c %Z", localtime(&now));
  setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);  // a rule, no tzdata needed
  tzset();
  g_checksum += strftime(text, sizeof text, "%c %Z", localtime(&now));
}

void use_iconv() {
  for (const char* to : {"UTF-16LE", "ISO-8859-15"}) {
    iconv_t converter = iconv_open(to, "UTF-8");
    if (converter == reinterpret_cast<iconv_t>(-1)) continue;
    char in[] = "abc", out[16];
    char* in_cursor = in;
    char* out_cursor = out;
    size_t in_left = 3, out_left = sizeof out;
    g_checksum += iconv(converter, &in_cursor, &in_left, &out_cursor, &out_left);
    iconv_close(converter);
  }
}

void* thread_main(void*) {
  g_checksum += strlen(strerror(654321));
  g_checksum += g_plugin_touch(5);  // the plugin's TLS block for this thread
  return nullptr;
}

bool use_threads_and_tls() {
  g_plugin = dlopen("libtls_plugin.so", RTLD_NOW);  // found through our RUNPATH
  if (!g_plugin) {
    fprintf(stderr, "runtime_buffers: %s\n", dlerror());
    return false;
  }
  g_plugin_touch = reinterpret_cast<int (*)(int)>(dlsym(g_plugin, "plugin_touch"));
  g_checksum += g_plugin_touch(3);  // the main thread's TLS block
  pthread_t thread;
  if (pthread_create(&thread, nullptr, thread_main, nullptr) != 0) return false;
  pthread_join(thread, nullptr);
  return true;
}

void use_cxx() {
  std::locale::global(std::locale(""));
  std::ostringstream text;
  text << 42 << ' ' << 3.5;
  try {
    throw std::runtime_error("thrown and caught: " + text.str());
  } catch (const std::exception& error) {
    g_checksum += strlen(error.what());
  }
  std::cout << "runtime_buffers: " << text.str() << std::endl;
  std::wcout << L"runtime_buffers: wide" << std::endl;
}

}  // namespace

int main() {
  use_stdio();
  use_locale();
  use_messages();
  use_accounts();
  use_time_zone();
  use_iconv();
  if (!use_threads_and_tls()) return 1;
  use_cxx();
  fprintf(stderr, "runtime_buffers: checksum %zu\n", g_checksum);
  return 0;
}

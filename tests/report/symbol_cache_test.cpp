#include "report/symbol_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "tests/report/fixtures/source_frame_print.h"
#include "tests/report/fixtures/temp_dir.h"

namespace nantrack {
namespace {

namespace fs = std::filesystem;

const std::string kBuildId("\x93\xac\x61\xec\x00\x8e", 6);  // raw bytes, a zero among them
const std::string kFileName = "93ac61ec008e.symbols";

using fixture::TempDir;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// An inlined call and the function it sits in, as the symbolizer gives them.
std::vector<SourceFrame> inline_chain() {
  return {{.address = 0x7f0000001234, .function = "std::vector<int>::push_back(int const&)", .file = "/usr/include/c++/12/bits/stl_vector.h",
           .line = 1287, .module = "/lib/libx.so", .module_offset = 0x1234, .inlined = true},
          {.function = "fill(std::vector<int>&)", .file = "src/fill.cpp", .line = 12}};
}

// What the cache keeps of frames: their symbols. Where the pc was belongs
// to the trace, not to the module's symbols.
std::vector<SourceFrame> symbols_of(std::vector<SourceFrame> frames) {
  for (SourceFrame& frame : frames) frame = {.function = frame.function, .file = frame.file, .line = frame.line,
                                             .inlined = frame.inlined};
  return frames;
}

TEST(SymbolCacheTest, FramesSavedAreFoundByTheNextCache) {
  TempDir dir;
  {
    SymbolCache cache(dir.path());
    EXPECT_EQ(cache.find(kBuildId, 0x1234), nullptr);
    cache.remember(kBuildId, 0x1234, inline_chain());
    cache.remember(kBuildId, 0x99, {{.function = "main", .file = "main.c", .line = 3}});
    ASSERT_NE(cache.find(kBuildId, 0x1234), nullptr) << "found before saving too";
    cache.save();
  }
  EXPECT_TRUE(fs::exists(dir.path() / kFileName));

  SymbolCache next(dir.path());
  const std::vector<SourceFrame>* kept = next.find(kBuildId, 0x1234);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(*kept, symbols_of(inline_chain()));
  ASSERT_NE(next.find(kBuildId, 0x99), nullptr);
  EXPECT_EQ(next.find(kBuildId, 0x99)->at(0).function, "main");
  EXPECT_EQ(next.find(kBuildId, 0x98), nullptr);
  EXPECT_EQ(next.find(std::string("\x93\xac\x61\xec\x00\x8f", 6), 0x1234), nullptr) << "another module";
}

TEST(SymbolCacheTest, SavingAgainKeepsWhatTheFileHad) {
  TempDir dir;
  {
    SymbolCache first(dir.path());
    first.remember(kBuildId, 1, {{.function = "a"}});
    first.save();
  }
  {
    SymbolCache second(dir.path());
    second.remember(kBuildId, 2, {{.function = "b"}});
    second.save();
  }
  SymbolCache third(dir.path());
  ASSERT_NE(third.find(kBuildId, 1), nullptr);
  ASSERT_NE(third.find(kBuildId, 2), nullptr);
  EXPECT_EQ(third.find(kBuildId, 2)->at(0).function, "b");
}

TEST(SymbolCacheTest, ModulesWithoutBuildIdAndUnstorableNamesAreNotKept) {
  TempDir dir;
  SymbolCache cache(dir.path());
  cache.remember("", 1, {{.function = "f"}});
  EXPECT_EQ(cache.find("", 1), nullptr);
  cache.remember(kBuildId, 2, {{.function = "odd\tname"}});
  cache.remember(kBuildId, 3, {{.function = "f", .file = "two\nlines.c"}});
  cache.remember(kBuildId, 4, {});
  EXPECT_EQ(cache.find(kBuildId, 2), nullptr);
  EXPECT_EQ(cache.find(kBuildId, 3), nullptr);
  EXPECT_EQ(cache.find(kBuildId, 4), nullptr);
  cache.save();
  EXPECT_TRUE(fs::is_empty(dir.path())) << "nothing new, nothing written";
}

// The file is untrusted: cut short anywhere, or edited, it is ignored whole
// (never a crash, never half of it), and the next save replaces it.
TEST(SymbolCacheTest, DamagedFilesAreIgnoredAndReplaced) {
  TempDir dir;
  {
    SymbolCache cache(dir.path());
    cache.remember(kBuildId, 0x1234, inline_chain());
    cache.remember(kBuildId, 0x99, {{.function = "main", .file = "main.c", .line = 3}});
    cache.save();
  }
  const fs::path file = dir.path() / kFileName;
  const std::string good = read_text(file);
  ASSERT_TRUE(good.ends_with("end\n")) << good;

  auto nothing_found = [&](const std::string& text) {
    write_text(file, text);
    SymbolCache cache(dir.path());
    return cache.find(kBuildId, 0x1234) == nullptr && cache.find(kBuildId, 0x99) == nullptr;
  };
  for (size_t length = 0; length < good.size(); ++length)
    EXPECT_TRUE(nothing_found(good.substr(0, length))) << "cut at " << length;

  const std::string header = good.substr(0, good.find('\n') + 1);
  const std::vector<std::string> edited = {
      header + "@1234 0\nend\n",                  // no frames
      header + "@1234 2\n0\t1\tf\tg\nend\n",       // more frames than lines
      header + "@zz 1\n0\t1\tf\tg\nend\n",         // not hex
      header + "@1234 1\n2\t1\tf\tg\nend\n",       // inlined neither 0 nor 1
      header + "@1234 1\n0\t-5\tf\tg\nend\n",      // negative line
      header + "@1234 1\n0\t1\tf\nend\n",          // a field missing
      header + "@1234 1\n0\t1\tf\tg\nend\nmore\n",  // text after the end
      "nantrack-symbols 1 0123\n@1234 1\n0\t1\tf\tg\nend\n",  // written by another build of nantrack
      std::string(4096, '\0'),
  };
  for (const std::string& text : edited) EXPECT_TRUE(nothing_found(text)) << text;

  SymbolCache cache(dir.path());
  cache.remember(kBuildId, 0x77, {{.function = "g"}});
  cache.save();
  SymbolCache after(dir.path());
  EXPECT_NE(after.find(kBuildId, 0x77), nullptr) << "the damaged file was replaced";
}

TEST(SymbolCacheTest, UnwritableDirectoryIsNotAnError) {
  TempDir dir;
  write_text(dir.path() / "a-file", "x");
  SymbolCache cache(dir.path() / "a-file" / "symbols");
  cache.remember(kBuildId, 1, {{.function = "f"}});
  cache.save();
  EXPECT_EQ(read_text(dir.path() / "a-file"), "x");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), {}), 1) << "no temporary file left";
}

class Environment {
 public:
  Environment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~Environment() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::optional<std::string> directory_with(const char* chosen, const char* xdg_cache_home, const char* home) {
  Environment a("NANTRACK_SYMBOL_CACHE", chosen), b("XDG_CACHE_HOME", xdg_cache_home), c("HOME", home);
  std::optional<fs::path> directory = SymbolCache::directory_from_environment();
  return directory ? std::optional<std::string>(directory->string()) : std::nullopt;
}

TEST(SymbolCacheTest, DirectoryComesFromTheEnvironment) {
  EXPECT_EQ(directory_with("/srv/cache", "/x", "/home/u"), "/srv/cache");
  EXPECT_EQ(directory_with("off", "/x", "/home/u"), std::nullopt);
  EXPECT_EQ(directory_with("", "/x", "/home/u"), std::nullopt);
  EXPECT_EQ(directory_with(nullptr, "/x", "/home/u"), "/x/nantrack/symbols");
  EXPECT_EQ(directory_with(nullptr, "relative", "/home/u"), "/home/u/.cache/nantrack/symbols")
      << "the XDG spec ignores a relative XDG_CACHE_HOME";
  EXPECT_EQ(directory_with(nullptr, nullptr, "/home/u"), "/home/u/.cache/nantrack/symbols");
  EXPECT_EQ(directory_with(nullptr, nullptr, nullptr), std::nullopt);
}

}  // namespace
}  // namespace nantrack

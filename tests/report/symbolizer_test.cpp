#include "report/symbolizer.h"

#include <dlfcn.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/symbol_cache.h"
#include "tests/report/fixtures/module_map.h"
#include "tests/report/fixtures/symbolizer_fixture.h"
#include "tests/report/fixtures/source_frame_print.h"
#include "tests/report/fixtures/temp_dir.h"

namespace nantrack {
namespace {

namespace fs = std::filesystem;
using fixture::Probe;

const Module& module_at(const std::vector<Module>& modules, uint64_t pc) {
  for (const Module& module : modules) {
    if (module.contains(pc)) return module;
  }
  throw std::runtime_error("no module holds the pc");
}

// What a frame must show; the module fields are checked separately.
struct Expected {
  std::string function;
  std::string file_name;  // basename
  int line = 0;
  bool inlined = false;
};

void expect_frame(const SourceFrame& frame, const Expected& expected) {
  EXPECT_EQ(frame.function, expected.function);
  EXPECT_EQ(fs::path(frame.file).filename(), expected.file_name) << frame.file;
  EXPECT_EQ(frame.line, expected.line);
  EXPECT_EQ(frame.inlined, expected.inlined);
}

// Module+offset and nothing else: what a module that cannot be used gives.
void expect_module_offset_only(const std::vector<SourceFrame>& frames, const Module& module, uint64_t pc) {
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].address, pc);
  EXPECT_EQ(frames[0].module, module.path);
  EXPECT_EQ(frames[0].module_offset, pc - module.load_bias);
  EXPECT_EQ(frames[0].function, "");
  EXPECT_EQ(frames[0].file, "");
  EXPECT_EQ(frames[0].line, 0);
}

using fixture::TempDir;

// The stripped fixture library, loaded for one test.
class FixtureLibrary {
 public:
  FixtureLibrary() : handle_(dlopen(SYMBOLIZER_FIXTURE_LIB, RTLD_NOW | RTLD_LOCAL)) {
    if (!handle_) throw std::runtime_error(dlerror());
  }
  ~FixtureLibrary() { close(); }
  Probe probe() const {
    auto* store_probe = reinterpret_cast<void (*)(Probe*)>(dlsym(handle_, "symbolizer_fixture_lib_probe"));
    Probe probe;
    store_probe(&probe);
    return probe;
  }
  void close() {
    if (handle_) dlclose(handle_);
    handle_ = nullptr;
  }

 private:
  void* handle_;
};

std::string self_path() { return fs::read_symlink("/proc/self/exe"); }

// A pc inside a libc function (this process does not interpose libc).
uint64_t pc_in(const char* libc_function) {
  return reinterpret_cast<uint64_t>(dlsym(RTLD_DEFAULT, libc_function)) + 4;
}

// Where a build-id tree keeps a module's debug file: ROOT/.build-id/xx/yyyy.debug.
fs::path debug_file_by_build_id(const fs::path& root, const std::string& build_id) {
  std::ostringstream hex;
  for (unsigned char byte : build_id) hex << std::hex << (byte >> 4) << (byte & 0xf);
  return root / ".build-id" / hex.str().substr(0, 2) / (hex.str().substr(2) + ".debug");
}

TEST(SymbolizerTest, FunctionInNamespaceOfPieExecutable) {
  Probe probe = fixture::probe_in_namespace();
  std::vector<Module> modules = fixture::current_module_map();
  const Module& exe = module_at(modules, probe.pc);
  ASSERT_EQ(exe.path, self_path());
  ASSERT_NE(exe.load_bias, 0u) << "the test executable should be PIE";

  Symbolizer symbolizer(modules);
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(frames.size(), 1u);
  expect_frame(frames[0], {"fixture::probe_in_namespace()", "symbolizer_fixture.cpp", probe.lines[0]});
  EXPECT_EQ(frames[0].address, probe.pc);
  EXPECT_EQ(frames[0].module, exe.path);
  EXPECT_EQ(frames[0].module_offset, probe.pc - exe.load_bias);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(SymbolizerTest, TemplateAndMethodNamesAreDemangled) {
  Probe in_template = fixture::probe_in_template(7);
  Probe in_method = fixture::Widget().probe();
  Symbolizer symbolizer(fixture::current_module_map());

  const std::vector<SourceFrame>& template_frames = symbolizer.symbolize(in_template.pc);
  ASSERT_EQ(template_frames.size(), 1u);
  expect_frame(template_frames[0],
               {"fixture::Probe fixture::probe_in_template<int>(int)", "symbolizer_fixture.cpp", in_template.lines[0]});
  const std::vector<SourceFrame>& method_frames = symbolizer.symbolize(in_method.pc);
  ASSERT_EQ(method_frames.size(), 1u);
  expect_frame(method_frames[0], {"fixture::Widget::probe() const", "symbolizer_fixture.cpp", in_method.lines[0]});
}

TEST(SymbolizerTest, InlinedCallsAreFramesOfTheirOwn) {
  Probe probe = fixture::probe_inline_chain();
  Symbolizer symbolizer(fixture::current_module_map());

  const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(frames.size(), 3u);
  expect_frame(frames[0], {"fixture::inlined_leaf()", "symbolizer_fixture.cpp", probe.lines[0], true});
  expect_frame(frames[1], {"fixture::inlined_middle()", "symbolizer_fixture.cpp", probe.lines[1], true});
  expect_frame(frames[2], {"fixture::probe_inline_chain()", "symbolizer_fixture.cpp", probe.lines[2], false});
  for (const SourceFrame& frame : frames) EXPECT_EQ(frame.address, probe.pc);
}

// The non-PIE child reports its probe and module map on stdout.
TEST(SymbolizerTest, NonPieExecutable) {
  FILE* child = popen(SYMBOLIZER_FIXTURE_NOPIE, "r");
  ASSERT_NE(child, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, child)) output.append(buffer, n);
  ASSERT_EQ(pclose(child), 0);
  std::istringstream in(output);
  std::string word;
  uint64_t pc = 0;
  int line = 0;
  in >> word >> std::hex >> pc >> std::dec >> line;
  ASSERT_EQ(word, "probe");
  Module exe = fixture::read_module(output);
  ASSERT_EQ(exe.path, fs::canonical(SYMBOLIZER_FIXTURE_NOPIE));
  ASSERT_EQ(exe.load_bias, 0u) << "the fixture should not be PIE";
  ASSERT_FALSE(exe.build_id.empty());

  Symbolizer symbolizer({exe});
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(pc);
  ASSERT_EQ(frames.size(), 1u);
  expect_frame(frames[0], {"fixture::probe_in_namespace()", "symbolizer_fixture.cpp", line});
  EXPECT_EQ(frames[0].module_offset, pc);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(SymbolizerTest, SharedLibraryWithDebugLink) {
  FixtureLibrary library;
  Probe probe = library.probe();
  std::vector<Module> modules = fixture::current_module_map();
  const Module& module = module_at(modules, probe.pc);
  ASSERT_EQ(module.path, SYMBOLIZER_FIXTURE_LIB);

  Symbolizer symbolizer(modules);
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(frames.size(), 1u);
  expect_frame(frames[0], {"fixture_lib::probe_in_library()", "symbolizer_fixture_lib.cpp", probe.lines[0]});
  EXPECT_EQ(frames[0].module_offset, probe.pc - module.load_bias);
}

TEST(SymbolizerTest, LibraryClosedBeforeSymbolizing) {
  FixtureLibrary library;
  Probe probe = library.probe();
  std::vector<Module> modules = fixture::current_module_map();
  library.close();
  for (Module& module : modules) module.unloaded = module.path == SYMBOLIZER_FIXTURE_LIB;

  Symbolizer symbolizer(modules);
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(frames.size(), 1u);
  expect_frame(frames[0], {"fixture_lib::probe_in_library()", "symbolizer_fixture_lib.cpp", probe.lines[0]});
}

TEST(SymbolizerTest, SeparateDebugFileFoundByBuildId) {
  FixtureLibrary library;
  Probe probe = library.probe();
  std::vector<Module> modules = fixture::current_module_map();
  const Module& module = module_at(modules, probe.pc);
  // The debug file only in a build-id tree: the .gnu_debuglink name leads nowhere under it.
  TempDir root;
  fs::path debug_file = debug_file_by_build_id(root.path(), module.build_id);
  fs::create_directories(debug_file.parent_path());
  fs::copy_file(SYMBOLIZER_FIXTURE_LIB ".debug", debug_file);

  Symbolizer symbolizer(modules, root.path());
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(frames.size(), 1u);
  expect_frame(frames[0], {"fixture_lib::probe_in_library()", "symbolizer_fixture_lib.cpp", probe.lines[0]});
}

TEST(SymbolizerTest, SymbolTableWhenNoDebugInfoIsFound) {
  FixtureLibrary library;
  Probe probe = library.probe();
  uint64_t in_getenv = pc_in("getenv");
  std::vector<Module> modules = fixture::current_module_map();
  TempDir no_debug_files;

  Symbolizer symbolizer(modules, no_debug_files.path());
  const std::vector<SourceFrame>& library_frames = symbolizer.symbolize(probe.pc);
  ASSERT_EQ(library_frames.size(), 1u);
  expect_frame(library_frames[0], {"fixture_lib::probe_in_library()", "", 0});
  const std::vector<SourceFrame>& libc_frames = symbolizer.symbolize(in_getenv);
  ASSERT_EQ(libc_frames.size(), 1u);
  expect_frame(libc_frames[0], {"getenv", "", 0});
  EXPECT_EQ(fs::path(libc_frames[0].module).filename(), "libc.so.6");
  // malloc and __libc_malloc are both exported at one address: the plainer name is shown.
  EXPECT_EQ(symbolizer.symbolize(pc_in("malloc"))[0].function, "malloc");
  EXPECT_TRUE(symbolizer.warnings().empty());
}

// libc6-dbg puts libc's DWARF in /usr/lib/debug/.build-id.
TEST(SymbolizerTest, DistributionDebugFileFoundByBuildId) {
  uint64_t in_getenv = pc_in("getenv");
  std::vector<Module> modules = fixture::current_module_map();
  fs::path debug_file = debug_file_by_build_id("/usr/lib/debug", module_at(modules, in_getenv).build_id);
  // `make deps` installs libc6-dbg, so this always runs.
  ASSERT_TRUE(fs::exists(debug_file)) << "no " << debug_file << " (libc6-dbg not installed)";

  Symbolizer symbolizer(modules);
  const std::vector<SourceFrame>& frames = symbolizer.symbolize(in_getenv);
  EXPECT_EQ(frames.back().function, "getenv");
  EXPECT_EQ(fs::path(frames.back().file).filename(), "getenv.c");
  EXPECT_GT(frames.front().line, 0);
}

// Frames read from a separate debug file (the fixture library's, libc6-dbg's
// libc) are kept in the symbol cache, and the next symbolizer with that cache
// gives them without loading the debug file: here it is given none at all.
// Frames from DWARF inside the module itself are not kept (it loads fast).
TEST(SymbolizerTest, SymbolCacheKeepsFramesOfSeparateDebugFiles) {
  FixtureLibrary library;
  Probe in_library = library.probe();
  Probe in_executable = fixture::probe_inline_chain();
  const uint64_t in_getenv = pc_in("getenv");
  const std::vector<Module> modules = fixture::current_module_map();
  TempDir cache_dir;

  std::vector<SourceFrame> library_frames, libc_frames, executable_frames;
  {
    SymbolCache cache(cache_dir.path() / "symbols");
    Symbolizer symbolizer(modules, "", &cache);
    library_frames = symbolizer.symbolize(in_library.pc);
    libc_frames = symbolizer.symbolize(in_getenv);
    executable_frames = symbolizer.symbolize(in_executable.pc);
    cache.save();
  }
  ASSERT_EQ(library_frames.size(), 1u);
  expect_frame(library_frames[0],
               {"fixture_lib::probe_in_library()", "symbolizer_fixture_lib.cpp", in_library.lines[0]});
  EXPECT_EQ(fs::path(libc_frames.back().file).filename(), "getenv.c") << "libc6-dbg is installed by make deps";
  size_t kept_modules = std::distance(fs::directory_iterator(cache_dir.path() / "symbols"), {});
  EXPECT_EQ(kept_modules, 2u) << "the library's and libc's, not the executable's";

  TempDir no_debug_files;
  SymbolCache cache(cache_dir.path() / "symbols");
  Symbolizer symbolizer(modules, no_debug_files.path(), &cache);
  EXPECT_EQ(symbolizer.symbolize(in_library.pc), library_frames);
  EXPECT_EQ(symbolizer.symbolize(in_getenv), libc_frames);
  EXPECT_EQ(symbolizer.symbolize(in_executable.pc), executable_frames);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(SymbolizerTest, ChangedFileIsNotUsedAndWarnedOnce) {
  Probe first = fixture::probe_in_namespace();
  Probe second = fixture::probe_inline_chain();
  std::vector<Module> modules = fixture::current_module_map();
  Module& exe = modules.front();
  ASSERT_TRUE(exe.contains(first.pc));
  ASSERT_FALSE(exe.build_id.empty());
  exe.build_id[0] = static_cast<char>(~exe.build_id[0]);

  Symbolizer symbolizer(modules);
  expect_module_offset_only(symbolizer.symbolize(first.pc), exe, first.pc);
  expect_module_offset_only(symbolizer.symbolize(second.pc), exe, second.pc);
  EXPECT_EQ(symbolizer.warnings(),
            std::vector<std::string>{"build-id mismatch: " + exe.path + " changed since the run"});
}

TEST(SymbolizerTest, VanishedFileIsWarned) {
  Probe probe = fixture::probe_in_namespace();
  std::vector<Module> modules = fixture::current_module_map();
  TempDir dir;
  Module& exe = modules.front();
  exe.path = dir.path() / "gone";

  Symbolizer symbolizer(modules);
  expect_module_offset_only(symbolizer.symbolize(probe.pc), exe, probe.pc);
  EXPECT_EQ(symbolizer.warnings(),
            std::vector<std::string>{"cannot open " + exe.path + ": No such file or directory"});
}

// Files that are not the module any more: garbage, cut-off copies of the test
// executable (with and without a build-id to check, so that libdw also reads
// what is left of the DWARF), a directory, a device.
TEST(SymbolizerTest, UnreadableFilesDoNotCrash) {
  Probe probe = fixture::probe_inline_chain();
  std::vector<Module> modules = fixture::current_module_map();
  const Module exe = modules.front();
  std::string image;
  {
    std::ifstream in(exe.path, std::ios::binary);
    image.assign(std::istreambuf_iterator<char>(in), {});
  }
  TempDir dir;
  std::vector<std::string> contents = {"not an ELF file\n", image.substr(0, 4), image.substr(0, 64),
                                       image.substr(0, 4096), image.substr(0, image.size() / 2),
                                       image.substr(0, image.size() - 1)};
  std::vector<std::string> paths = {dir.path(), "/dev/zero"};
  for (size_t i = 0; i < contents.size(); ++i) {
    paths.push_back(dir.path() / ("cut" + std::to_string(i)));
    std::ofstream(paths.back(), std::ios::binary) << contents[i];
  }
  for (const std::string& path : paths) {
    for (bool check_build_id : {true, false}) {
      SCOPED_TRACE(path + (check_build_id ? " with build-id" : " without build-id"));
      modules.front().path = path;
      modules.front().build_id = check_build_id ? exe.build_id : "";
      Symbolizer symbolizer(modules);
      const std::vector<SourceFrame>& frames = symbolizer.symbolize(probe.pc);
      ASSERT_FALSE(frames.empty());
      EXPECT_EQ(frames[0].module, path);
      EXPECT_EQ(frames[0].module_offset, probe.pc - exe.load_bias);
    }
  }
}

TEST(SymbolizerTest, PcInNoModule) {
  std::vector<Module> modules = fixture::current_module_map();
  modules.push_back({.path = "/garbage", .segments = {{.start = 0x1000, .size = 0}, {.start = ~0ull - 8, .size = 64}}});
  Symbolizer symbolizer(modules);
  for (uint64_t pc : {uint64_t{0}, uint64_t{0x1000}, uint64_t{8}}) {
    const std::vector<SourceFrame>& frames = symbolizer.symbolize(pc);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].address, pc);
    EXPECT_EQ(frames[0].module, "");
    EXPECT_EQ(frames[0].module_offset, pc);
    EXPECT_EQ(frames[0].function, "");
  }
  Symbolizer empty({});
  EXPECT_EQ(empty.symbolize(42).size(), 1u);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(SymbolizerTest, PseudoModulesAreNotFiles) {
  std::vector<Module> modules = fixture::current_module_map();
  auto vdso = std::find_if(modules.begin(), modules.end(),
                           [](const Module& module) { return module.path.starts_with("linux-vdso"); });
  ASSERT_TRUE(vdso != modules.end() && !vdso->segments.empty()) << "no vdso in this process";
  uint64_t pc = vdso->segments.front().start;

  Symbolizer symbolizer(modules);
  expect_module_offset_only(symbolizer.symbolize(pc), *vdso, pc);
  EXPECT_TRUE(symbolizer.warnings().empty());
}

TEST(SymbolizerTest, EachPcIsSymbolizedOnce) {
  Probe probe = fixture::probe_in_namespace();
  Symbolizer symbolizer(fixture::current_module_map());
  EXPECT_EQ(&symbolizer.symbolize(probe.pc), &symbolizer.symbolize(probe.pc));
}

// Thousands of modules in the map, pcs in one: only that one is opened (the
// others do not even exist, and nothing warns about them).
TEST(SymbolizerTest, OnlyModulesHoldingPcsAreOpened) {
  Probe probe = fixture::probe_in_namespace();
  std::vector<Module> modules = fixture::current_module_map();
  const uint64_t exe_start = modules.front().segments.front().start;
  for (uint64_t i = 0; i < 10000; ++i) {
    // Below the executable, one page apart: no fake module overlaps it.
    uint64_t start = exe_start - (i + 1) * 0x2000;
    modules.push_back({.path = "/nonexistent/lib" + std::to_string(i) + ".so",
                       .load_bias = start,
                       .segments = {{.start = start, .size = 0x1000}}});
  }
  auto begin = std::chrono::steady_clock::now();
  Symbolizer symbolizer(modules);
  EXPECT_EQ(symbolizer.symbolize(probe.pc)[0].function, "fixture::probe_in_namespace()");
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin);
  std::printf("[ perf     ] %zu modules, 1 pc: %.1f ms\n", modules.size(), elapsed.count());
  EXPECT_TRUE(symbolizer.warnings().empty());

  symbolizer.symbolize(modules.back().segments.front().start);
  EXPECT_EQ(symbolizer.warnings().size(), 1u);
}

// Timing is printed, not asserted: 10,000 distinct pcs spread over the test
// executable's code, then 1,000,000 lookups of them.
TEST(SymbolizerTest, ManyLookupsPerformance) {
  std::vector<Module> modules = fixture::current_module_map();
  std::vector<uint64_t> pcs;
  for (const Segment& segment : modules.front().segments) {
    if (!(segment.flags & PF_X)) continue;
    for (uint64_t i = 0; i < 10000; ++i) pcs.push_back(segment.start + i * (segment.size / 10000));
  }
  ASSERT_FALSE(pcs.empty());

  auto begin = std::chrono::steady_clock::now();
  Symbolizer symbolizer(modules);
  size_t named = 0;
  for (uint64_t pc : pcs) named += !symbolizer.symbolize(pc).back().function.empty();
  auto first_pass = std::chrono::steady_clock::now();
  size_t frames = 0;
  for (size_t i = 0; i < 1000000; ++i) frames += symbolizer.symbolize(pcs[i % pcs.size()]).size();
  auto end = std::chrono::steady_clock::now();

  using Ms = std::chrono::duration<double, std::milli>;
  std::printf("[ perf     ] %zu distinct pcs (%zu named): %.1f ms; 1,000,000 lookups: %.1f ms; total %.1f ms\n",
              pcs.size(), named, Ms(first_pass - begin).count(), Ms(end - first_pass).count(),
              Ms(end - begin).count());
  EXPECT_GT(named, pcs.size() / 2);
  EXPECT_GE(frames, 1000000u);
}

}  // namespace
}  // namespace nantrack

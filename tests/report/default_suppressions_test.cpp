#include "report/default_suppressions.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/report/suppression_test_support.h"

namespace nantrack {
namespace {

using namespace nantrack::testing;

TEST(DefaultSuppressionsTest, TheCompiledInTextIsTheFile) {
  std::ifstream file(NANTRACK_SOURCE_DIR "/report/default_suppressions.supp");
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(default_suppressions_text(), text);
}

TEST(DefaultSuppressionsTest, ParseAndAreAddedOnce) {
  Suppressions suppressions;
  suppressions.add_defaults();
  const size_t count = suppressions.rules().size();
  EXPECT_GE(count, 1u);
  suppressions.add_defaults();
  EXPECT_EQ(suppressions.rules().size(), count);
  for (const Suppression& rule : suppressions.rules()) {
    EXPECT_EQ(rule.source, kDefaultSuppressionsSource);
    EXPECT_TRUE(rule.leak_kinds != 0 && rule.error_kinds == 0) << rule.name << ": defaults hide leaks only";
  }
}

const Suppression* default_match(const SourceStack& stack) {
  static const Suppressions defaults = [] {
    Suppressions suppressions;
    suppressions.add_defaults();
    return suppressions;
  }();
  return defaults.match_leak(LeakKind::Definite, stack);
}

TEST(DefaultSuppressionsTest, HideTheLoadersOwnBlocks) {
  // Stacks as nantrack showed them for tests/programs/runtime_buffers, with
  // libc's debug information: what the scan does not find reachable.
  EXPECT_NE(default_match({frame("calloc", "../include/rtld-malloc.h", 44, kLoader),
                           frame("allocate_dtv", "", 0, kLoader), frame("_dl_allocate_tls", "", 0, kLoader),
                           frame("allocate_stack", "", 0, kLibc), frame("__pthread_create_2_1", "", 0, kLibc),
                           frame("main")}),
            nullptr);
  EXPECT_NE(default_match({frame("malloc", "../include/rtld-malloc.h", 56, kLoader),
                           frame("allocate_dtv_entry", "", 0, kLoader), frame("allocate_and_init", "", 0, kLoader),
                           frame("__tls_get_addr", "", 0, kLoader), frame("plugin_touch", "", 0, "/opt/plugin.so"),
                           frame("main")}),
            nullptr);
  EXPECT_NE(default_match({frame("malloc", "../include/rtld-malloc.h", 56, kLoader),
                           frame("_dlfo_mappings_segment_allocate", "", 0, kLoader),
                           frame("_dl_find_object_update", "", 0, kLoader), frame("dl_open_worker_begin", "", 0, kLoader),
                           frame("_dl_catch_exception", "", 0, kLibc), frame("main")}),
            nullptr);
  // Without libc6-dbg the loader's frames have no names.
  EXPECT_NE(default_match({frame("", "", 0, kLoader), frame("", "", 0, kLoader), frame("", "", 0, kLibc),
                           frame("main")}),
            nullptr);
}

// The scan finds these reachable (tests/e2e/default_suppressions_test.cpp):
// a program that loses the pointer to one of them has leaked it.
TEST(DefaultSuppressionsTest, LeaveWhatTheScanFindsReachable) {
  EXPECT_EQ(default_match({frame("_IO_file_doallocate", "./libio/filedoalloc.c", 101, kLibc),
                           frame("_IO_doallocbuf", "", 0, kLibc), frame("main")}),
            nullptr);
  EXPECT_EQ(default_match(
                {frame("", "", 0, kLibc), frame("", "", 0, kLibc), frame("setlocale", "", 0, kLibc), frame("main")}),
            nullptr);
  EXPECT_EQ(default_match({frame("__vasprintf_internal", "", 0, kLibc), frame("___asprintf", "", 0, kLibc),
                           frame("__dlerror", "", 0, kLibc), frame("main")}),
            nullptr);
  EXPECT_EQ(default_match({frame("getpwnam", "", 0, kLibc), frame("main")}), nullptr);
  EXPECT_EQ(default_match({frame("", "", 0, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
                           frame("call_init", "./elf/dl-init.c", 74, kLoader), frame("_dl_init", "", 0, kLoader)}),
            nullptr);
}

TEST(DefaultSuppressionsTest, DoNotHideTheProgramsOwnLeaks) {
  EXPECT_EQ(default_match(leak_stack()), nullptr);
  EXPECT_EQ(default_match({frame("__strdup", "./string/strdup.c", 42, kLibc), frame("main")}), nullptr);
  EXPECT_EQ(default_match({frame("std::__cxx11::basic_string<char>::_M_create(unsigned long&, unsigned long)", "", 0,
                                 "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
                           frame("make_name()"), frame("main")}),
            nullptr);
  // A constructor of a dlopen'ed library runs below ld.so's frames: its
  // leaks are its own.
  EXPECT_EQ(default_match({frame("plugin_init", "", 0, "/opt/plugin.so"), frame("call_init", "", 0, kLoader),
                           frame("_dl_init", "", 0, kLoader), frame("_dlerror_run", "", 0, kLibc)}),
            nullptr);
  EXPECT_EQ(default_match({}), nullptr);
}

}  // namespace
}  // namespace nantrack

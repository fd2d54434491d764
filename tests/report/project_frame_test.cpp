#include "report/project_frame.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

SourceFrame in_file(std::string file) { return {.function = "f", .file = std::move(file), .line = 1}; }

TEST(ProjectFrameTest, SystemFramesAreThoseWithoutFileOrUnderUsr) {
  EXPECT_TRUE(is_system_frame({.function = "malloc", .module = "/usr/lib/libc.so.6"}));
  EXPECT_TRUE(is_system_frame(in_file("/usr/include/c++/12/bits/vector.tcc")));
  EXPECT_FALSE(is_system_frame(in_file("/home/dev/app/src/main.cpp")));
  EXPECT_FALSE(is_system_frame(in_file("src/main.cpp")));
  EXPECT_FALSE(is_system_frame(in_file("/usrlocal/x.c")));
}

TEST(ProjectFrameTest, InnermostProjectFrameSkipsSystemFrames) {
  const SourceStack stack = {{.function = "strdup"}, in_file("/usr/include/c++/12/bits/new_allocator.h"),
                             in_file("/src/app/cache.cpp"), in_file("/src/app/main.cpp")};
  ASSERT_NE(innermost_project_frame(stack), nullptr);
  EXPECT_EQ(innermost_project_frame(stack)->file, "/src/app/cache.cpp");
}

TEST(ProjectFrameTest, FallsBackToTheInnermostFrameWithAFile) {
  const SourceStack stack = {{.function = "strdup"}, in_file("/usr/include/a.h"), in_file("/usr/include/b.h")};
  ASSERT_NE(innermost_project_frame(stack), nullptr);
  EXPECT_EQ(innermost_project_frame(stack)->file, "/usr/include/a.h");
  EXPECT_EQ(innermost_project_frame({{.function = "strdup"}}), nullptr);
  EXPECT_EQ(innermost_project_frame({}), nullptr);
}

}  // namespace
}  // namespace nantrack

#include "report/demangle.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(DemangleTest, CxxNamesAsLibstdcxxGivesThem) {
  EXPECT_EQ(demangle("_ZN5Cache4dropEv"), "Cache::drop()");
  EXPECT_EQ(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"), "std::vector<int, std::allocator<int> >::push_back(int const&)");
  EXPECT_EQ(demangle("_Znwm"), "operator new(unsigned long)");
}

TEST(DemangleTest, RustV0NamesWithTheirPaths) {
  EXPECT_EQ(demangle("_RNvCs1234_7mycrate4main"), "mycrate::main");
  EXPECT_EQ(demangle("_RNvMs4_NtCslNYArtu3iFV_5alloc7raw_vecNtB5_11RawVecInner11finish_growCsduwmD7cSIQq_5gimli"),
            "<alloc::raw_vec::RawVecInner>::finish_grow");
}

TEST(DemangleTest, RustLegacyNamesWithoutTheirHash) {
  EXPECT_EQ(demangle("_ZN3std2rt10lang_start17h0123456789abcdefE"), "std::rt::lang_start");
  EXPECT_EQ(demangle("_ZN7mycrate5cache6refill17h0123456789abcdefE"), "mycrate::cache::refill");
}

TEST(DemangleTest, NamesThatAreNotMangledOrNotUnderstoodGiveNothing) {
  EXPECT_EQ(demangle("main"), std::nullopt);
  EXPECT_EQ(demangle("__GI_getenv"), std::nullopt);
  EXPECT_EQ(demangle(""), std::nullopt);
  EXPECT_EQ(demangle("_Z"), std::nullopt);
  EXPECT_EQ(demangle("_Znot-mangled"), std::nullopt);
  EXPECT_EQ(demangle("_R"), std::nullopt);
  EXPECT_EQ(demangle("_RNvCs1234_7mycrate99main"), std::nullopt) << "a length past the end";
  EXPECT_EQ(demangle("_RB_"), std::nullopt) << "a back reference to itself";
}

}  // namespace
}  // namespace nantrack

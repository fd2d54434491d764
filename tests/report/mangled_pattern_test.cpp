#include "report/mangled_pattern.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(MangledPatternTest, WholeMangledNamesAreDemangled) {
  EXPECT_EQ(demangled_pattern("_ZN5Cache4dropEv"), "Cache::drop()");
  EXPECT_EQ(demangled_pattern("_Z11make_bufferm"), "make_buffer(unsigned long)");
  EXPECT_EQ(demangled_pattern("_Znwm"), "operator new(unsigned long)");
  EXPECT_EQ(demangled_pattern("_ZdlPv"), "operator delete(void*)");
  EXPECT_EQ(demangled_pattern("_RNvCs1234_7mycrate4main"), "mycrate::main");
  EXPECT_EQ(demangled_pattern("_ZN7mycrate4main17h0123456789abcdefE"), "mycrate::main");
}

TEST(MangledPatternTest, PatternsWithWildcardsKeepTheirLeadingNames) {
  EXPECT_EQ(demangled_pattern("_ZN5boost6detail*"), "boost::detail*");
  EXPECT_EQ(demangled_pattern("_ZNK3Foo3bar*"), "Foo::bar*");
  EXPECT_EQ(demangled_pattern("_ZNSt6vector*"), "std::vector*");
  EXPECT_EQ(demangled_pattern("_ZL6helper?"), "helper*");
  EXPECT_EQ(demangled_pattern("_Z3foo*"), "foo*");
  EXPECT_EQ(demangled_pattern("_ZN5boo*"), "boo*") << "a name cut short by the wildcard";
  EXPECT_EQ(demangled_pattern("_Znw*"), "operator new*");
  EXPECT_EQ(demangled_pattern("_Zda*"), "operator delete[]*");
}

TEST(MangledPatternTest, EverythingElseIsUnchanged) {
  EXPECT_EQ(demangled_pattern("malloc"), "malloc");
  EXPECT_EQ(demangled_pattern("Cache::drop()"), "Cache::drop()");
  EXPECT_EQ(demangled_pattern("*alloc"), "*alloc");
  EXPECT_EQ(demangled_pattern("_Znot-mangled"), "_Znot-mangled");
  EXPECT_EQ(demangled_pattern("_Z*"), "_Z*") << "no name to keep";
  EXPECT_EQ(demangled_pattern("_ZN99999999999999999999999*"), "_ZN99999999999999999999999*");
}

}  // namespace
}  // namespace nantrack

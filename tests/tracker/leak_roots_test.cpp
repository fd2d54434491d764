#include "tracker/leak_roots.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

namespace nantrack {
namespace {

// The mapping of /proc/self/maps holding `address`.
LeakRoots::Range mapping_of(uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &begin, &end) == 2 && begin <= address && address < end)
      return {begin, end};
  }
  return {0, 0};
}

void expect_within_its_mapping(const LeakRoots& roots, uintptr_t thread_pointer) {
  const LeakRoots::Range tls = roots.static_tls_of(thread_pointer);
  const LeakRoots::Range mapping = mapping_of(thread_pointer);
  ASSERT_NE(mapping.end, 0u);
  EXPECT_LT(tls.begin, thread_pointer) << "the TLS below the thread pointer is scanned";
  EXPECT_GT(tls.end, thread_pointer) << "and the TCB above it";
  // Beyond the TLS block lies whatever else is mapped there: read as a
  // root, its stale addresses keep leaked blocks reachable.
  EXPECT_GE(tls.begin, mapping.begin) << std::hex << "starts 0x" << mapping.begin - tls.begin
                                      << " bytes below the mapping";
  EXPECT_LE(tls.end, mapping.end);
}

// ld.so allocates the main thread's TLS and TCB at start-up, at the start
// of a mapping of their own; a new thread has them at the top of its stack
// mapping. Either way the range scanned stays inside.
TEST(LeakRootsTest, StaticTlsRangeStaysInsideTheThreadsTlsMapping) {
  LeakRoots roots;
  roots.init(false);
  expect_within_its_mapping(roots, static_cast<uintptr_t>(pthread_self()));

  pthread_t thread;
  auto check = [](void* argument) -> void* {
    expect_within_its_mapping(*static_cast<LeakRoots*>(argument), static_cast<uintptr_t>(pthread_self()));
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, nullptr, check, &roots), 0);
  pthread_join(thread, nullptr);
}

// The scanning thread's own registers: getcontext() saved rcx holding the
// address of a block the scan had just handled, and the block, leaked, was
// counted still reachable (an -flto build of the threads e2e test, every
// run). Only the callee-saved registers can hold the program's pointers.
TEST(LeakRootsTest, TheScanningThreadsRootsAreItsCalleeSavedRegistersOnly) {
  mcontext_t context{};
  for (int name = 0; name < NGREG; ++name) context.gregs[name] = 0x100000 + name * 0x10;
  const LeakRoots::CalleeSavedRegisters roots = LeakRoots::callee_saved_registers(context);
  std::set<uintptr_t> scanned(std::begin(roots.values), std::end(roots.values));
  std::set<uintptr_t> callee_saved;
  for (int name : {REG_RBX, REG_RBP, REG_R12, REG_R13, REG_R14, REG_R15})
    callee_saved.insert(static_cast<uintptr_t>(context.gregs[name]));
  EXPECT_EQ(scanned, callee_saved);
  for (int name : {REG_RDI, REG_RSI, REG_RDX, REG_RCX, REG_R8, REG_R9, REG_RAX, REG_R10, REG_R11})
    EXPECT_EQ(scanned.count(static_cast<uintptr_t>(context.gregs[name])), 0u) << "register " << name;
}

}  // namespace
}  // namespace nantrack

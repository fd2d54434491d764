// Allocates from every kind of call stack an unwinder can get wrong, many
// times each, so that a validated unwind cache is hit on all of them:
// deep optimized chains sharing one caller pc and sp, inlined callers,
// frame-pointer functions with alloca and VLAs, stack realignment, signal
// handlers (on the thread's stack and on an alternate stack), catch blocks
// and destructors run while an exception unwinds, longjmp, threads that
// come and go, and a fork child. Built -O2 -fomit-frame-pointer.
//
// Each scenario also leaks one block per stack shape, with its own size in
// 3000..3999: the e2e test compares those blocks' stacks with and without
// the cache.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace {

constexpr int kRepeats = 400;
void* volatile g_sink;
int g_leak_size = 3000;

// The pair every scenario ends in. noinline: one caller pc for all paths.
[[gnu::noinline]] void pair(int leak) {
  void* block = malloc(24 + leak % 7);
  g_sink = block;
  free(block);
  if (leak) g_sink = malloc(static_cast<size_t>(g_leak_size++));
}

// ---- deep, optimized: many paths to one caller at one depth (as churn)
using Level = int (*)(unsigned path, int depth, int leak);
extern const Level kLevels[4];
inline int next_level(unsigned path, int depth, int leak) {
  if (depth == 0) {
    pair(leak);
    return 1;
  }
  return kLevels[path & 3]((path >> 2) | (path << 30), depth - 1, leak);
}
[[gnu::noinline]] int level_a(unsigned p, int d, int l) { return next_level(p, d, l) * 3 + 1; }
[[gnu::noinline]] int level_b(unsigned p, int d, int l) { return next_level(p, d, l) * 5 + 2; }
[[gnu::noinline]] int level_c(unsigned p, int d, int l) { return next_level(p, d, l) * 7 + 3; }
[[gnu::noinline]] int level_d(unsigned p, int d, int l) { return next_level(p, d, l) * 11 + 4; }
const Level kLevels[4] = {level_a, level_b, level_c, level_d};

[[gnu::noinline]] void deep_paths() {
  for (int round = 0; round < kRepeats; ++round)
    for (unsigned path = 0; path < 64; ++path) next_level(path * 2654435761u, 6 + path % 20, round == 0);
}

// ---- inlined callers: the allocation's caller is an inlined frame
[[gnu::always_inline]] inline void* make_node(size_t size) { return malloc(size); }
[[gnu::always_inline]] inline void build_tree(int leak) {
  void* node = make_node(40);
  g_sink = node;
  free(node);
  if (leak) g_sink = make_node(static_cast<size_t>(g_leak_size++));
}
[[gnu::noinline]] void inlined() {
  for (int round = 0; round < kRepeats; ++round) build_tree(round == 0);
}

// ---- frame pointer + alloca / VLA: the CFA is rbp-based, sp varies
[[gnu::noinline, gnu::optimize("no-omit-frame-pointer")]] void with_alloca(int n, int leak) {
  char* scratch = static_cast<char*>(__builtin_alloca(16 + n * 16));
  scratch[0] = 1;
  g_sink = scratch;
  pair(leak);
}
[[gnu::noinline, gnu::optimize("no-omit-frame-pointer")]] void with_vla(int n, int leak) {
  char scratch[32 + n * 8];
  scratch[0] = 1;
  g_sink = scratch;
  with_alloca(n % 5, leak);
}
// Stack realignment: over-aligned locals make gcc align rsp (and keep the
// CFA on rbp).
[[gnu::noinline]] void realigned(int n, int leak) {
  alignas(64) char buffer[64 + 1];
  buffer[n % 64] = 1;
  g_sink = buffer;
  with_vla(n, leak);
}
[[gnu::noinline]] void frame_pointers() {
  for (int round = 0; round < kRepeats; ++round)
    for (int n = 0; n < 12; ++n) realigned(n, round == 0 && n < 3);
}

// ---- signal handlers that allocate, on the thread's stack and on an
// alternate stack (raise() delivers synchronously, at a known point)
volatile sig_atomic_t g_handler_leak = 0;
void allocating_handler(int) {
  pair(g_handler_leak);
  g_handler_leak = 0;
}
[[gnu::noinline]] void raise_at_depth(int depth) {
  if (depth > 0) {
    raise_at_depth(depth - 1);
    g_sink = nullptr;
    return;
  }
  raise(SIGUSR1);
}
[[gnu::noinline]] void signals() {
  struct sigaction action = {};
  action.sa_handler = allocating_handler;
  sigaction(SIGUSR1, &action, nullptr);
  for (int round = 0; round < kRepeats / 4; ++round) {
    g_handler_leak = round == 0;
    raise_at_depth(round % 5);
  }
  static char alternate[64 * 1024];
  stack_t stack = {};
  stack.ss_sp = alternate;
  stack.ss_size = sizeof(alternate);
  sigaltstack(&stack, nullptr);
  action.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &action, nullptr);
  for (int round = 0; round < kRepeats / 4; ++round) {
    g_handler_leak = round == 0;
    raise_at_depth(round % 5);
  }
  action.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &action, nullptr);
}

// ---- exceptions: allocations in catch blocks and in destructors run
// during unwinding (the stack under them is being torn down)
struct AllocatesOnDestruction {
  int leak;
  ~AllocatesOnDestruction() { pair(leak); }
};
[[gnu::noinline]] void throw_from(int depth, int leak) {
  AllocatesOnDestruction guard{leak};
  if (depth == 0) throw std::runtime_error("unwind me");
  throw_from(depth - 1, 0);
  g_sink = nullptr;
}
[[gnu::noinline]] void exceptions() {
  for (int round = 0; round < kRepeats; ++round) {
    try {
      throw_from(round % 6, round == 0);
    } catch (const std::exception& error) {
      pair(round == 1);
      g_sink = const_cast<char*>(error.what());
    }
  }
}

// ---- longjmp: jumps out of deep frames, leaving their words on the stack
jmp_buf g_jump;
volatile bool g_jump_armed = true;
[[gnu::noinline]] void jump_from(int depth, int leak) {
  if (depth == 0) {
    pair(leak);
    if (g_jump_armed) longjmp(g_jump, 1);
    return;
  }
  jump_from(depth - 1, leak);
  g_sink = nullptr;
}
[[gnu::noinline]] void after_jump(int depth) {
  // Allocates at the depths the jumped-over frames used.
  if (depth > 0) {
    after_jump(depth - 1);
    g_sink = nullptr;
    return;
  }
  pair(0);
}
[[gnu::noinline]] void jump_round(int round) {
  if (setjmp(g_jump) == 0) jump_from(round % 8, round == 0);
  after_jump(round % 8);
}
[[gnu::noinline]] void long_jumps() {
  for (int round = 0; round < kRepeats; ++round) jump_round(round);
}

// ---- threads that come and go (each gets a cache from the pool)
void* thread_body(void* arg) {
  long id = reinterpret_cast<long>(arg);
  for (int round = 0; round < kRepeats / 8; ++round)
    for (unsigned path = 0; path < 16; ++path) next_level(path * 40503u + id, 4 + path % 9, 0);
  return nullptr;
}
[[gnu::noinline]] void threads() {
  for (int wave = 0; wave < 10; ++wave) {
    pthread_t workers[4];
    for (long i = 0; i < 4; ++i) pthread_create(&workers[i], nullptr, thread_body, reinterpret_cast<void*>(i));
    for (pthread_t worker : workers) pthread_join(worker, nullptr);
  }
}

void all_scenarios() {
  deep_paths();
  inlined();
  frame_pointers();
  signals();
  exceptions();
  long_jumps();
  threads();
}

}  // namespace

int main(int argc, char** argv) {
  all_scenarios();
  if (argc > 1 && std::strcmp(argv[1], "fork") == 0) {
    // The child inherits this thread's cache; its stacks must still be right.
    pid_t child = fork();
    if (child == 0) {
      deep_paths();
      long_jumps();
      threads();
      return 0;
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  std::puts("unwind_shapes done");
  return 0;
}

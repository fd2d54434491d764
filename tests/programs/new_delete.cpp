// Every operator new and delete variant. Frees what it allocates except one
// leaked block per new kind, each with its own size: new 2001, new[] 2002,
// aligned new 2003 (align 64), aligned new[] 2004 (align 128), nothrow new
// 2005, nothrow new[] 2006. Also checks failure semantics: a huge new throws
// std::bad_alloc, a huge nothrow new returns nullptr, and a new-handler runs.
#include <cstdint>
#include <cstdio>
#include <new>

void* volatile sink;
static int failures;

#define CHECK(condition)                                          \
  do {                                                            \
    if (!(condition)) {                                           \
      std::printf("FAILED: %s (line %d)\n", #condition, __LINE__); \
      ++failures;                                                 \
    }                                                             \
  } while (0)

struct alignas(64) Aligned64 {
  char bytes[64];
};

static int handler_calls;
static void new_handler() {
  ++handler_calls;
  std::set_new_handler(nullptr);  // give up on the next round: bad_alloc
}

int main() {
  constexpr std::size_t kHuge = SIZE_MAX / 2;
  // Freed with their matching (and sized / aligned) deletes.
  ::operator delete(::operator new(10));
  ::operator delete[](::operator new[](11));
  ::operator delete(::operator new(12), std::size_t{12});
  ::operator delete[](::operator new[](13), std::size_t{13});
  ::operator delete(::operator new(14, std::align_val_t{32}), std::align_val_t{32});
  ::operator delete[](::operator new[](15, std::align_val_t{32}), std::align_val_t{32});
  ::operator delete(::operator new(16, std::align_val_t{32}), std::size_t{16}, std::align_val_t{32});
  ::operator delete[](::operator new[](17, std::align_val_t{32}), std::size_t{17}, std::align_val_t{32});
  ::operator delete(::operator new(18, std::nothrow), std::nothrow);
  ::operator delete[](::operator new[](19, std::nothrow), std::nothrow);
  ::operator delete(::operator new(20, std::align_val_t{32}, std::nothrow), std::align_val_t{32}, std::nothrow);
  ::operator delete[](::operator new[](21, std::align_val_t{32}, std::nothrow), std::align_val_t{32}, std::nothrow);
  delete new Aligned64;
  delete[] new Aligned64[3];

  sink = ::operator new(2001);
  sink = ::operator new[](2002);
  void* a64 = ::operator new(2003, std::align_val_t{64});
  CHECK(reinterpret_cast<std::uintptr_t>(a64) % 64 == 0);
  sink = a64;
  void* a128 = ::operator new[](2004, std::align_val_t{128});
  CHECK(reinterpret_cast<std::uintptr_t>(a128) % 128 == 0);
  sink = a128;
  sink = ::operator new(2005, std::nothrow);
  sink = ::operator new[](2006, std::nothrow);

  CHECK(::operator new(kHuge, std::nothrow) == nullptr);
  CHECK(::operator new[](kHuge, std::align_val_t{64}, std::nothrow) == nullptr);
  bool threw = false;
  try {
    sink = ::operator new(kHuge);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  std::set_new_handler(new_handler);
  threw = false;
  try {
    sink = ::operator new[](kHuge);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw && handler_calls == 1);

  std::printf("checks: %d failed\n", failures);
  return failures ? 1 : 0;
}

// One kind of bad deallocation per run, named by argv[1]; every one must be
// reported at the bad call and the program must go on to print "survived"
// and exit 0. Functions are noinline so the test can find them in stacks.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

void* volatile sink;
int global_object;

__attribute__((noinline)) void* allocate_here(std::size_t size) {
  void* p = std::malloc(size);
  sink = p;
  return p;
}
__attribute__((noinline)) void first_free(void* p) {
  std::free(p);
  sink = p;
}
__attribute__((noinline)) void second_free(void* p) {
  std::free(p);
  sink = p;
}
__attribute__((noinline)) void free_it(void* p) {
  std::free(p);
  sink = p;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!std::strcmp(mode, "double_free")) {
    void* p = allocate_here(24);
    first_free(p);
    second_free(p);
  } else if (!std::strcmp(mode, "double_free_later")) {
    // Many frees between the two: the block waits in quarantine among others.
    void* p = allocate_here(24);
    first_free(p);
    for (int i = 0; i < 1000; ++i) std::free(std::malloc(24 + i % 64));
    second_free(p);
  } else if (!std::strcmp(mode, "invalid_stack")) {
    int local = 0;
    sink = &local;
    free_it(&local);
  } else if (!std::strcmp(mode, "invalid_global")) {
    free_it(&global_object);
  } else if (!std::strcmp(mode, "invalid_global_in_a_loop")) {
    // The same mistake 100,000 times, and another one once.
    for (int i = 0; i < 100000; ++i) free_it(&global_object);
    second_free(&global_object);
  } else if (!std::strcmp(mode, "invalid_interior")) {
    char* p = static_cast<char*>(allocate_here(64));
    free_it(p + 8);
    free_it(p);  // the real block is still fine
  } else if (!std::strcmp(mode, "interior_of_freed")) {
    char* p = static_cast<char*>(allocate_here(64));
    first_free(p);
    free_it(p + 8);
  } else if (!std::strcmp(mode, "invalid_never")) {
    free_it(reinterpret_cast<void*>(0x10000));
  } else if (!std::strcmp(mode, "malloc_delete")) {
    void* p = allocate_here(32);
    ::operator delete(p);
  } else if (!std::strcmp(mode, "new_free")) {
    int* p = new int[1];
    sink = p;
    delete[] p;
    int* q = new int(5);
    sink = q;
    free_it(q);
  } else if (!std::strcmp(mode, "new_array_delete")) {
    char* p = new char[40];
    sink = p;
    ::operator delete(p);
  } else if (!std::strcmp(mode, "new_delete_array")) {
    int* p = new int(1);
    sink = p;
    ::operator delete[](p);
  } else if (!std::strcmp(mode, "aligned_new_plain_delete")) {
    void* p = ::operator new(48, std::align_val_t{64});
    sink = p;
    ::operator delete(p);
  } else if (!std::strcmp(mode, "realloc_freed")) {
    void* p = allocate_here(16);
    first_free(p);
    void* q = std::realloc(p, 64);
    std::printf("realloc returned %s\n", q ? "a block" : "NULL");
  } else if (!std::strcmp(mode, "realloc_foreign")) {
    void* q = std::realloc(&global_object, 64);
    std::printf("realloc returned %s\n", q ? "a block" : "NULL");
  } else {
    std::printf("unknown mode '%s'\n", mode);
    return 2;
  }
  std::printf("survived\n");
  return 0;
}

// The program `make demo` runs under nantrack: a small inventory cache with
// the mistakes nantrack exists to catch. Each is real, each is reported.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace inventory {

struct Item {
  std::string name;
  int count;
};

// Leak 1: every lookup miss copies the key into a buffer nobody frees.
class NameCache {
 public:
  const char* intern(const std::string& name) {
    auto found = names_.find(name);
    if (found != names_.end()) return found->second;
    char* copy = static_cast<char*>(std::malloc(name.size() + 1));
    std::memcpy(copy, name.c_str(), name.size() + 1);
    names_[name] = copy;
    return copy;
  }
  // Forgets the table but not the copies it points to.
  void reset() { names_.clear(); }

 private:
  std::map<std::string, char*> names_;
};

// Leak 2: a template that allocates from an inlined helper.
template <typename T>
inline T* make_batch(std::size_t count) {
  return new T[count];
}

template <typename T>
__attribute__((noinline)) T* load_batch(std::size_t count) {
  T* batch = make_batch<T>(count);
  for (std::size_t i = 0; i < count; ++i) batch[i] = T{};
  return batch;
}

// A stock counter: plain data, so a second delete runs no destructor on the
// freed block and the double free is the one mistake here.
struct Stock {
  int item_id;
  int count;
};

__attribute__((noinline)) void release(Stock* stock) { delete stock; }

}  // namespace inventory

void* volatile sink;

int main() {
  inventory::NameCache cache;
  for (const char* name : {"apple", "pear", "plum", "fig"}) cache.intern(name);
  cache.reset();  // leaks the four copies

  sink = inventory::load_batch<double>(128);  // leaks 1,024 bytes

  auto* stock = new inventory::Stock{7, 3};
  inventory::release(stock);
  inventory::release(stock);  // double free: caught here, never reaches libc

  int* counts = new int[4]();
  sink = counts;
  std::free(counts);  // new[] released with free(): mismatched

  std::vector<std::unique_ptr<inventory::Item>> shelf;  // correct code: no report
  shelf.push_back(std::make_unique<inventory::Item>(inventory::Item{"melon", 1}));
  std::printf("inventory: %zu item(s) on the shelf\n", shelf.size());
  return 0;
}

#include "tracker/recording_unwinder.h"

#include <dlfcn.h>
#include <libunwind.h>

#include "tracker/own_memory.h"

namespace nantrack {
namespace {

// One unwind in progress: the accessors' `arg`.
struct Session {
  const CallerFrame* caller;
  const StackBounds* stack;
  UnwindRecording* recording;
  ReadableSegments* segments;
  bool replayable;
};

int access_memory(unw_addr_space_t, unw_word_t address, unw_word_t* value, int write, void* arg) {
  if (write) return -UNW_EINVAL;
  auto& session = *static_cast<Session*>(arg);
  const bool on_stack = session.stack->contains(address);
  // Neither stack nor module: where a return address or frame pointer
  // without unwind tables led (a JIT compiler's code, or nowhere). Not
  // read: libunwind then takes the frame for an ordinary one, or stops.
  // An unwind that comes out different from libunwind's own is not cached.
  if (!on_stack && !session.segments->contains(address)) return -UNW_EINVAL;
  if (on_stack && address < session.caller->sp) {
    // Below the caller's frame, where a guard page may be.
    session.replayable = false;
    return read_own_memory(value, reinterpret_cast<const void*>(address), sizeof *value) == sizeof *value
               ? 0
               : -UNW_EINVAL;
  }
  *value = *reinterpret_cast<const unw_word_t*>(address);
  if (!on_stack) return 0;  // unwind tables and code: constant while loaded
  UnwindRecording& recording = *session.recording;
  if (address - session.caller->sp > UINT32_MAX || recording.read_count == UnwindRecording::kMaxReads) {
    session.replayable = false;
    return 0;
  }
  recording.offsets[recording.read_count] = static_cast<uint32_t>(address - session.caller->sp);
  recording.values[recording.read_count++] = *value;
  return 0;
}

int access_register(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write, void* arg) {
  auto& session = *static_cast<Session*>(arg);
  if (write) return -UNW_EINVAL;
  switch (reg) {
    case UNW_X86_64_RIP: *value = session.caller->pc; return 0;
    case UNW_X86_64_RSP: *value = session.caller->sp; return 0;
    case UNW_X86_64_RBP:
      session.recording->read_fp = true;
      *value = session.caller->fp;
      return 0;
    default:
      // rbx, r12-r15 at the call are not known here: an unwind that needs
      // them fails, and the caller falls back to a local unwind.
      session.replayable = false;
      return -UNW_EBADREG;
  }
}

int access_fp_register(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void* arg) {
  static_cast<Session*>(arg)->replayable = false;
  return -UNW_EBADREG;
}

}  // namespace

struct RecordingUnwinder::Functions {
  int (*init_remote)(unw_cursor_t*, unw_addr_space_t, void*);
  int (*step)(unw_cursor_t*);
  int (*get_reg)(unw_cursor_t*, int, unw_word_t*);
  int (*is_signal_frame)(unw_cursor_t*);
  void (*flush_cache)(unw_addr_space_t, unw_word_t, unw_word_t);
};

bool RecordingUnwinder::load() {
  static Functions functions;
  void* library = dlopen("libunwind-x86_64.so.8", RTLD_NOW | RTLD_LOCAL);
  if (!library) return false;
  auto symbol = [&](const char* name) { return dlsym(library, name); };
  functions.init_remote = reinterpret_cast<decltype(functions.init_remote)>(symbol("_Ux86_64_init_remote"));
  functions.step = reinterpret_cast<decltype(functions.step)>(symbol("_Ux86_64_step"));
  functions.get_reg = reinterpret_cast<decltype(functions.get_reg)>(symbol("_Ux86_64_get_reg"));
  functions.is_signal_frame = reinterpret_cast<decltype(functions.is_signal_frame)>(symbol("_Ux86_64_is_signal_frame"));
  functions.flush_cache = reinterpret_cast<decltype(functions.flush_cache)>(symbol("_Ux86_64_flush_cache"));
  auto get_accessors = reinterpret_cast<unw_accessors_t* (*)(unw_addr_space_t)>(symbol("_Ux86_64_get_accessors"));
  auto create = reinterpret_cast<unw_addr_space_t (*)(unw_accessors_t*, int)>(symbol("_Ux86_64_create_addr_space"));
  auto set_caching_policy = reinterpret_cast<int (*)(unw_addr_space_t, unw_caching_policy_t)>(symbol("_Ux86_64_set_caching_policy"));
  auto* local = static_cast<unw_addr_space_t*>(symbol("_Ux86_64_local_addr_space"));
  if (!functions.init_remote || !functions.step || !functions.get_reg || !functions.is_signal_frame ||
      !functions.flush_cache || !get_accessors || !create || !set_caching_policy || !local)
    return false;
  // Before the first call into libunwind (see Unwinder::load()).
  find_code_range(reinterpret_cast<const void*>(functions.step), library_code_);
  // The local address space finds unwind tables through dl_iterate_phdr;
  // only the register and memory accessors become ours.
  unw_accessors_t accessors = *get_accessors(*local);
  accessors.access_mem = access_memory;
  accessors.access_reg = access_register;
  accessors.access_fpreg = access_fp_register;
  accessors.resume = nullptr;
  unw_addr_space_t space = create(&accessors, 0);
  if (!space) return false;
  set_caching_policy(space, UNW_CACHE_PER_THREAD);
  functions_ = &functions;
  address_space_ = space;
  return true;
}

void RecordingUnwinder::flush() const {
  if (address_space_) functions_->flush_cache(static_cast<unw_addr_space_t>(address_space_), 0, 0);
}

bool RecordingUnwinder::unwind(const CallerFrame& caller, const StackBounds& stack, const Unwinder& frames,
                               uintptr_t* pcs, uint32_t max_depth, uint32_t& depth,
                               UnwindRecording& recording, ReadableSegments& segments) const {
  depth = 0;
  recording.read_count = 0;
  recording.read_fp = false;
  if (!address_space_) return false;
  Session session{&caller, &stack, &recording, &segments, true};
  unw_cursor_t cursor;
  if (functions_->init_remote(&cursor, static_cast<unw_addr_space_t>(address_space_), &session) < 0) return false;
  while (depth < max_depth) {
    unw_word_t pc = 0;
    if (functions_->get_reg(&cursor, UNW_REG_IP, &pc) < 0 || pc == 0) break;
    if (functions_->is_signal_frame(&cursor) > 0) return false;
    // Return addresses point after the call; minus one names the call.
    if (!frames.skips(pc)) pcs[depth++] = pc - 1;
    if (depth == max_depth || functions_->step(&cursor) <= 0) break;
  }
  return session.replayable;
}

}  // namespace nantrack

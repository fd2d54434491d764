#include "tracker/frame_rules.h"

#include <dlfcn.h>

#include <cstring>

#include "tracker/internal_memory.h"

namespace nantrack {
namespace {

// DWARF register numbers on x86-64.
constexpr uint64_t kRbp = 6, kRsp = 7;

// Pointer encodings (DW_EH_PE_*) as the LSB's exception frames use them.
constexpr uint8_t kOmit = 0xff, kFormatMask = 0x0f, kApplicationMask = 0x70;
constexpr uint8_t kAbsolute = 0x00, kUleb = 0x01, kUdata2 = 0x02, kUdata4 = 0x03, kUdata8 = 0x04, kSleb = 0x09,
                  kSdata2 = 0x0a, kSdata4 = 0x0b, kSdata8 = 0x0c;
constexpr uint8_t kPcRelative = 0x10, kDataRelative = 0x30;
constexpr uint8_t kHeaderTableEncoding = kDataRelative | kSdata4;  // what every linker writes

// A bounded reader over call frame information; any read past `end` or
// any value it cannot decode turns `ok` off, and the rule is unsupported.
struct Reader {
  const uint8_t* at;
  const uint8_t* end;
  bool ok = true;

  bool has(size_t bytes) {
    if (ok && at <= end && static_cast<size_t>(end - at) >= bytes) return true;
    ok = false;
    return false;
  }
  void skip(uint64_t bytes) {
    if (has(bytes)) at += bytes;
  }
  template <typename T>
  T fixed() {
    T value{};
    if (!has(sizeof(T))) return value;
    std::memcpy(&value, at, sizeof(T));
    at += sizeof(T);
    return value;
  }
  uint64_t uleb() {
    uint64_t value = 0;
    for (unsigned shift = 0; has(1); shift += 7) {
      uint8_t byte = *at++;
      if (shift < 64) value |= uint64_t{byte & 0x7fu} << shift;
      if (!(byte & 0x80)) return value;
    }
    return 0;
  }
  int64_t sleb() {
    uint64_t value = 0;
    unsigned shift = 0;
    while (has(1)) {
      uint8_t byte = *at++;
      if (shift < 64) value |= uint64_t{byte & 0x7fu} << shift;
      shift += 7;
      if (!(byte & 0x80)) {
        if (shift < 64 && (byte & 0x40)) value |= ~uint64_t{0} << shift;
        return static_cast<int64_t>(value);
      }
    }
    return 0;
  }
  // An encoded pointer; `data_base` for data-relative ones.
  uintptr_t pointer(uint8_t encoding, uintptr_t data_base = 0) {
    const uintptr_t here = reinterpret_cast<uintptr_t>(at);
    uint64_t value = 0;
    switch (encoding & kFormatMask) {
      case kAbsolute:
      case kUdata8:
      case kSdata8: value = fixed<uint64_t>(); break;
      case kUdata4: value = fixed<uint32_t>(); break;
      case kSdata4: value = static_cast<uint64_t>(int64_t{fixed<int32_t>()}); break;
      case kUdata2: value = fixed<uint16_t>(); break;
      case kSdata2: value = static_cast<uint64_t>(int64_t{fixed<int16_t>()}); break;
      case kUleb: value = uleb(); break;
      case kSleb: value = static_cast<uint64_t>(sleb()); break;
      default: ok = false; return 0;
    }
    switch (encoding & kApplicationMask) {
      case 0: return value;
      case kPcRelative: return here + value;
      case kDataRelative: return data_base + value;
      default: ok = false; return 0;  // text-, function-relative, aligned: not used on x86-64 Linux
    }
  }
};

// Call frame instructions (DWARF 5, section 6.4.2; DW_CFA_*).
enum CallFrameOpcode : uint8_t {
  kNop = 0x00,
  kAdvanceLoc1 = 0x02,
  kAdvanceLoc2 = 0x03,
  kAdvanceLoc4 = 0x04,
  kOffsetExtended = 0x05,
  kRestoreExtended = 0x06,
  kUndefined = 0x07,
  kSameValue = 0x08,
  kRegister = 0x09,
  kRememberState = 0x0a,
  kRestoreState = 0x0b,
  kDefCfa = 0x0c,
  kDefCfaRegister = 0x0d,
  kDefCfaOffset = 0x0e,
  kDefCfaExpression = 0x0f,
  kExpression = 0x10,
  kOffsetExtendedSf = 0x11,
  kDefCfaSf = 0x12,
  kDefCfaOffsetSf = 0x13,
  kValOffset = 0x14,
  kValOffsetSf = 0x15,
  kValExpression = 0x16,
  kGnuArgsSize = 0x2e,
  kNegativeOffsetExtended = 0x2f,
  // Packed with an operand in the low six bits.
  kAdvanceLocPacked = 0x40,
  kOffsetPacked = 0x80,
  kRestorePacked = 0xc0,
};

// How one register is recovered in a row of the CFA table.
struct RegisterRule {
  enum Kind : uint8_t { Same, Undefined, Offset, Unsupported } kind = Same;
  int64_t offset = 0;
};

struct Row {
  uint64_t cfa_register = kRsp;
  int64_t cfa_offset = 0;
  bool cfa_supported = true;
  RegisterRule fp, ra;
  bool sp_rule = false;  // a rule for rsp itself: not the CFA convention
};

struct CommonEntry {  // the CIE's fields an FDE needs
  uint64_t code_align = 1;
  int64_t data_align = 1;
  uint64_t ra_register = 16;
  uint8_t fde_encoding = kAbsolute;
  bool has_augmentation_data = false;
  const uint8_t* instructions = nullptr;
  const uint8_t* end = nullptr;
};

bool read_common_entry(const uint8_t* cie, CommonEntry& common) {
  Reader in{cie, cie + 4};
  uint32_t length = in.fixed<uint32_t>();
  if (length == 0 || length == 0xffffffff) return false;  // 64-bit DWARF is not emitted for x86-64 .eh_frame
  in.end = in.at + length;
  if (in.fixed<uint32_t>() != 0) return false;  // not a CIE
  uint8_t version = in.fixed<uint8_t>();
  if (version != 1 && version != 3) return false;
  const char* augmentation = reinterpret_cast<const char*>(in.at);
  while (in.fixed<uint8_t>() != 0) {
  }
  if (!in.ok) return false;
  common.code_align = in.uleb();
  common.data_align = in.sleb();
  common.ra_register = version == 1 ? in.fixed<uint8_t>() : in.uleb();
  if (augmentation[0] == 'z') {
    common.has_augmentation_data = true;
    uint64_t data_length = in.uleb();
    if (!in.has(data_length)) return false;
    const uint8_t* const data_end = in.at + data_length;
    for (const char* letter = augmentation + 1; *letter && in.ok; ++letter) {
      switch (*letter) {
        case 'R': common.fde_encoding = in.fixed<uint8_t>(); break;
        case 'L': in.fixed<uint8_t>(); break;
        case 'P': in.pointer(in.fixed<uint8_t>() & 0x7f); break;  // the personality routine, not needed
        default: return false;  // 'S' (a signal frame) and anything newer
      }
    }
    in.at = data_end;
  } else if (augmentation[0]) {
    return false;
  }
  common.instructions = in.at;
  common.end = in.end;
  return in.ok && common.fde_encoding != kOmit;
}

// Runs call frame instructions from `in` into `row` while their location
// stays at or below `target`; `initial` is the row after the CIE's
// instructions (what DW_CFA_restore goes back to). False on anything it
// cannot follow.
bool run_instructions(Reader in, const CommonEntry& common, uintptr_t location, uintptr_t target, Row& row,
                      const Row& initial) {
  constexpr int kMaxRemembered = 8;
  Row remembered[kMaxRemembered];
  int depth = 0;
  auto rule_of = [&](uint64_t reg) -> RegisterRule* {
    if (reg == kRbp) return &row.fp;
    if (reg == common.ra_register) return &row.ra;
    if (reg == kRsp) row.sp_rule = true;
    return nullptr;  // another register: the walk does not need it
  };
  auto set_offset = [&](uint64_t reg, int64_t offset) {
    if (RegisterRule* rule = rule_of(reg)) *rule = {RegisterRule::Offset, offset};
  };
  auto set_kind = [&](uint64_t reg, RegisterRule::Kind kind) {
    if (RegisterRule* rule = rule_of(reg)) *rule = {kind, 0};
  };
  auto restore = [&](uint64_t reg) {
    if (reg == kRbp) row.fp = initial.fp;
    if (reg == common.ra_register) row.ra = initial.ra;
  };
  auto advance = [&](uint64_t delta) {
    location += delta * common.code_align;
    return location <= target;
  };
  while (in.at < in.end && in.ok) {
    uint8_t op = in.fixed<uint8_t>();
    switch (op >> 6) {  // the three opcodes with an operand in their low six bits
      case kAdvanceLocPacked >> 6:
        if (!advance(op & 0x3f)) return true;
        continue;
      case kOffsetPacked >> 6:
        set_offset(op & 0x3f, static_cast<int64_t>(in.uleb()) * common.data_align);
        continue;
      case kRestorePacked >> 6:
        restore(op & 0x3f);
        continue;
    }
    switch (op) {
      case kNop:
        break;
      case kAdvanceLoc1:
        if (!advance(in.fixed<uint8_t>())) return true;
        break;
      case kAdvanceLoc2:
        if (!advance(in.fixed<uint16_t>())) return true;
        break;
      case kAdvanceLoc4:
        if (!advance(in.fixed<uint32_t>())) return true;
        break;
      case kOffsetExtended: {
        uint64_t reg = in.uleb();
        set_offset(reg, static_cast<int64_t>(in.uleb()) * common.data_align);
        break;
      }
      case kOffsetExtendedSf: {
        uint64_t reg = in.uleb();
        set_offset(reg, in.sleb() * common.data_align);
        break;
      }
      case kNegativeOffsetExtended: {
        uint64_t reg = in.uleb();
        set_offset(reg, -static_cast<int64_t>(in.uleb()) * common.data_align);
        break;
      }
      case kRestoreExtended:
        restore(in.uleb());
        break;
      case kUndefined:
        set_kind(in.uleb(), RegisterRule::Undefined);
        break;
      case kSameValue:
        set_kind(in.uleb(), RegisterRule::Same);
        break;
      case kRegister:
        set_kind(in.uleb(), RegisterRule::Unsupported);
        in.uleb();
        break;
      case kValOffset:
        set_kind(in.uleb(), RegisterRule::Unsupported);
        in.uleb();
        break;
      case kValOffsetSf:
        set_kind(in.uleb(), RegisterRule::Unsupported);
        in.sleb();
        break;
      case kExpression:
      case kValExpression:
        set_kind(in.uleb(), RegisterRule::Unsupported);
        in.skip(in.uleb());
        break;
      case kRememberState:
        if (depth == kMaxRemembered) return false;
        remembered[depth++] = row;
        break;
      case kRestoreState:
        if (depth == 0) return false;
        row = remembered[--depth];
        break;
      case kDefCfa:
        row.cfa_register = in.uleb();
        row.cfa_offset = static_cast<int64_t>(in.uleb());
        row.cfa_supported = true;
        break;
      case kDefCfaSf:
        row.cfa_register = in.uleb();
        row.cfa_offset = in.sleb() * common.data_align;
        row.cfa_supported = true;
        break;
      case kDefCfaRegister:
        row.cfa_register = in.uleb();
        break;
      case kDefCfaOffset:
        row.cfa_offset = static_cast<int64_t>(in.uleb());
        break;
      case kDefCfaOffsetSf:
        row.cfa_offset = in.sleb() * common.data_align;
        break;
      case kDefCfaExpression:
        row.cfa_supported = false;
        in.skip(in.uleb());
        break;
      case kGnuArgsSize:  // matters when resuming in a frame, not when stepping out of it
        in.uleb();
        break;
      default:  // set_loc and vendor extensions
        return false;
    }
  }
  return in.ok;
}

// The FDE that covers `address`, by binary search in .eh_frame_hdr's table.
const uint8_t* find_fde(const uint8_t* header, uintptr_t address) {
  Reader in{header, header + 4};
  if (in.fixed<uint8_t>() != 1) return nullptr;
  uint8_t frame_pointer_encoding = in.fixed<uint8_t>(), count_encoding = in.fixed<uint8_t>(),
          table_encoding = in.fixed<uint8_t>();
  if (table_encoding != kHeaderTableEncoding || count_encoding == kOmit) return nullptr;
  const uintptr_t base = reinterpret_cast<uintptr_t>(header);
  in.end = in.at + 16;  // the two encoded values that follow
  in.pointer(frame_pointer_encoding, base);
  uint64_t count = in.pointer(count_encoding, base);
  if (!in.ok || count == 0) return nullptr;
  struct Entry {
    int32_t start, fde;
  };
  const auto* table = reinterpret_cast<const Entry*>(in.at);
  // The last entry that starts at or below the address.
  uint64_t low = 0, high = count;
  while (high - low > 1) {
    uint64_t middle = low + (high - low) / 2;
    Entry entry;
    std::memcpy(&entry, &table[middle], sizeof(entry));
    if (base + static_cast<intptr_t>(entry.start) <= address) low = middle; else high = middle;
  }
  Entry entry;
  std::memcpy(&entry, &table[low], sizeof(entry));
  if (base + static_cast<intptr_t>(entry.start) > address) return nullptr;
  return reinterpret_cast<const uint8_t*>(base + static_cast<intptr_t>(entry.fde));
}

bool read_rule(uintptr_t address, Row& row) {
  dl_find_object module;
  if (_dl_find_object(reinterpret_cast<void*>(address), &module) != 0 || !module.dlfo_eh_frame) return false;
  const uint8_t* fde = find_fde(static_cast<const uint8_t*>(module.dlfo_eh_frame), address);
  if (!fde) return false;
  Reader in{fde, fde + 8};
  uint32_t length = in.fixed<uint32_t>();
  if (length == 0 || length == 0xffffffff) return false;
  in.end = in.at + length;
  const uint8_t* id_field = in.at;
  uint32_t cie_offset = in.fixed<uint32_t>();
  if (!in.ok || cie_offset == 0) return false;
  CommonEntry common;
  if (!read_common_entry(id_field - cie_offset, common)) return false;
  uintptr_t start = in.pointer(common.fde_encoding);
  uintptr_t range = in.pointer(common.fde_encoding & kFormatMask);
  if (!in.ok || address < start || address - start >= range) return false;
  if (common.has_augmentation_data) in.skip(in.uleb());
  Row initial;
  if (!run_instructions(Reader{common.instructions, common.end}, common, start, ~uintptr_t{0}, initial, initial))
    return false;
  row = initial;
  return run_instructions(Reader{in.at, in.end}, common, start, address, row, initial);
}

}  // namespace

FrameRule read_frame_rule(uintptr_t address) {
  FrameRule rule;
  Row row;
  if (!read_rule(address, row) || !row.cfa_supported || row.sp_rule) return rule;
  if (row.cfa_register != kRsp && row.cfa_register != kRbp) return rule;
  if (row.cfa_offset < INT32_MIN || row.cfa_offset > INT32_MAX) return rule;
  rule.cfa_from_fp = row.cfa_register == kRbp;
  rule.cfa_offset = static_cast<int32_t>(row.cfa_offset);
  switch (row.ra.kind) {
    case RegisterRule::Undefined: rule.ra_undefined = 1; break;
    case RegisterRule::Offset:
      if (row.ra.offset < INT8_MIN || row.ra.offset > INT8_MAX) return rule;
      rule.ra_offset = static_cast<int8_t>(row.ra.offset);
      break;
    default: return rule;
  }
  switch (row.fp.kind) {
    case RegisterRule::Same: break;
    case RegisterRule::Offset:
      if (row.fp.offset < INT16_MIN || row.fp.offset > INT16_MAX) return rule;
      rule.fp_saved = 1;
      rule.fp_offset = static_cast<int16_t>(row.fp.offset);
      break;
    default: return rule;  // undefined rbp: libunwind's answer may differ from ours
  }
  rule.supported = 1;
  return rule;
}

bool FrameRuleCache::init() {
  slots_ = static_cast<Slot*>(map_memory(kSlots * sizeof(Slot), true));
  return slots_ != nullptr;
}

void FrameRuleCache::release() {
  unmap_memory(slots_, kSlots * sizeof(Slot));
  slots_ = nullptr;
}

void FrameRuleCache::wipe() {
  for (size_t i = 0; slots_ && i < kSlots; ++i) slots_[i].key.store(0, std::memory_order_relaxed);
}

void FrameRuleCache::store(Slot& slot, uint64_t key, FrameRule rule) {
  uint64_t version = slot.version.load(std::memory_order_relaxed);
  if ((version & 1) || !slot.version.compare_exchange_strong(version, version + 1, std::memory_order_relaxed))
    return;  // another thread is writing it
  std::atomic_thread_fence(std::memory_order_release);
  slot.key.store(key, std::memory_order_relaxed);
  slot.rule.store(std::bit_cast<uint64_t>(rule), std::memory_order_relaxed);
  slot.version.store(version + 2, std::memory_order_release);
}

}  // namespace nantrack

// The CI gate: which findings make `nantrack run` / `nantrack report` exit
// with --error-exitcode instead of the program's status.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "report/report_model.h"

namespace nantrack {

struct FailOn {
  std::array<bool, 4> leak_kinds{};          // index: LeakKind
  std::array<bool, kErrorKindCount> errors{};  // index: ErrorKind value - 1

  // Definite and possible leaks and every error kind (issue 4).
  static FailOn defaults();
  // "definite,double_free", "leaks,errors", "all", "none"... Throws
  // std::invalid_argument naming the bad word and the accepted ones.
  static FailOn parse(std::string_view kinds);
};

struct GateDecision {
  bool tripped = false;
  uint64_t leaked_bytes = 0;  // of the leak kinds that count
  uint64_t leaked_blocks = 0;
  uint64_t errors = 0;        // of the error kinds that count
  std::string line;           // the one line printed about the decision
};

// `max_leaked_bytes`: leaks trip the gate only above this many bytes
// (errors of a counted kind always trip it).
GateDecision decide_gate(const Report& report, const FailOn& fail_on, std::optional<uint64_t> max_leaked_bytes,
                         int exit_code);

}  // namespace nantrack

// Running a function on a stack of our own. A call into the allocator made
// on a stack the program set up itself (a coroutine's, a signal handler's
// alternate stack) is unwound by libunwind, which takes about 6 KiB of the
// stack it runs on; such stacks are often small, and what the program left
// free there may not hold it. The unwind runs on the thread's own unwind
// stack instead.
#pragma once

// Calls fn(arg) with the stack pointer at `stack_top` (16-byte aligned) and
// returns when it does. Its frame has unwind tables, so an unwind from
// inside fn goes on past it to the caller's frames, on the caller's stack.
extern "C" void nantrack_call_on_stack(void (*fn)(void*), void* arg, void* stack_top);

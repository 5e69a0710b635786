;; A hand-written canister with a 32-bit memory that exercises the System API.
;; Layout of the heap: 0..8 counter copy, 64..1088 scratch, 4096.. arg buffer.
;; Stable memory: 0..8 counter saved by pre_upgrade, byte 100 = "pre_upgrade must trap".
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "msg_method_name_size" (func $method_size (result i32)))
  (import "ic0" "msg_method_name_copy" (func $method_copy (param i32 i32 i32)))
  (import "ic0" "accept_message" (func $accept_message))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "canister_status" (func $canister_status (result i32)))
  (import "ic0" "canister_version" (func $canister_version (result i64)))
  (import "ic0" "canister_cycle_balance128" (func $balance128 (param i32)))
  (import "ic0" "canister_cycle_balance" (func $balance64 (result i64)))
  (import "ic0" "msg_cycles_available128" (func $available128 (param i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept128 (param i64 i64 i32)))
  (import "ic0" "cycles_burn128" (func $burn128 (param i64 i64 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles_add128 (param i64 i64)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "stable_size" (func $stable_size (result i32)))
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $stable_write (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $stable_read (param i32 i32 i32)))
  (import "ic0" "stable64_size" (func $stable64_size (result i64)))
  (import "ic0" "stable64_grow" (func $stable64_grow (param i64) (result i64)))
  (import "ic0" "certified_data_set" (func $certified_data_set (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $cert_present (result i32)))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "global_timer_set" (func $global_timer_set (param i64) (result i64)))
  (import "ic0" "performance_counter" (func $performance_counter (param i32) (result i64)))
  (import "ic0" "is_controller" (func $is_controller (param i32 i32) (result i32)))
  (import "ic0" "in_replicated_execution" (func $in_replicated (result i32)))
  (import "ic0" "debug_print" (func $debug_print (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))

  (memory 1)
  (table 1 funcref)
  (global $counter (mut i64) (i64.const 0))
  (global $timer_runs (mut i32) (i32.const 0))
  (global $flag (mut f64) (f64.const 0))
  (data (i32.const 1024) "nope")
  (data (i32.const 1040) "init ran")
  (data (i32.const 1056) "explicit trap")
  (data (i32.const 1088) "rejected_by_inspect")

  (func $dummy_callback (param i32))
  (elem (i32.const 0) $dummy_callback)

  ;; -- helpers -------------------------------------------------------------------------
  (func $reply_bytes (param $ptr i32) (param $len i32)
    (call $append (local.get $ptr) (local.get $len))
    (call $reply))
  (func $reply_i64 (param $v i64)
    (i64.store (i32.const 64) (local.get $v))
    (call $reply_bytes (i32.const 64) (i32.const 8)))
  (func $reply_i32 (param $v i32)
    (i32.store (i32.const 64) (local.get $v))
    (call $reply_bytes (i32.const 64) (i32.const 4)))
  ;; copy the argument to 4096 and return its size
  (func $load_arg (result i32)
    (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 4096) (i32.const 0) (local.get $n))
    (local.get $n))
  (func $bump
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $counter)))

  ;; -- lifecycle -------------------------------------------------------------------------
  (func (export "canister_init")
    (call $debug_print (i32.const 1040) (i32.const 8))
    ;; an init argument of one byte 0xFF makes init trap
    (if (i32.eq (call $load_arg) (i32.const 1))
      (then (if (i32.eq (i32.load8_u (i32.const 4096)) (i32.const 255))
        (then unreachable)))))

  (func (export "canister_pre_upgrade")
    (if (i64.eq (call $stable64_size) (i64.const 0))
      (then (drop (call $stable64_grow (i64.const 1)))))
    ;; pre_upgrade writes the counter to the heap (to be rolled back) and to stable memory
    (i64.store (i32.const 8) (i64.const 0x7777))
    (i64.store (i32.const 0) (global.get $counter))
    (call $stable_write (i32.const 0) (i32.const 0) (i32.const 8))
    (call $stable_read (i32.const 200) (i32.const 100) (i32.const 1))
    (if (i32.eq (i32.load8_u (i32.const 200)) (i32.const 1))
      (then (call $trap (i32.const 1056) (i32.const 13)))))

  (func (export "canister_post_upgrade")
    (if (i64.gt_u (call $stable64_size) (i64.const 0))
      (then
        (call $stable_read (i32.const 0) (i32.const 0) (i32.const 8))
        (global.set $counter (i64.load (i32.const 0)))))
    ;; an argument of one byte 0x01 makes post_upgrade trap (after changing stable memory)
    (if (i32.eq (call $load_arg) (i32.const 1))
      (then (if (i32.eq (i32.load8_u (i32.const 4096)) (i32.const 1))
        (then
          (call $stable_write (i32.const 0) (i32.const 4096) (i32.const 1))
          unreachable)))))

  (func (export "canister_inspect_message")
    (local $n i32)
    (local.set $n (call $method_size))
    (call $method_copy (i32.const 2048) (i32.const 0) (local.get $n))
    ;; reject "rejected_by_inspect" (19 bytes starting with 'r' 'e' 'j'), accept anything else
    (if (i32.and (i32.eq (local.get $n) (i32.const 19))
                 (i32.eq (i32.load8_u (i32.const 2050)) (i32.const 106)))
      (then return))
    (call $accept_message))

  (func (export "canister_global_timer")
    (global.set $timer_runs (i32.add (global.get $timer_runs) (i32.const 1))))

  ;; -- updates -------------------------------------------------------------------------
  (func (export "canister_update inc")
    (call $bump)
    (call $reply_i64 (global.get $counter)))

  (func (export "canister_update rejected_by_inspect")
    (call $reply_i32 (i32.const 1)))

  (func (export "canister_update echo")
    (call $reply_bytes (i32.const 4096) (call $load_arg)))

  ;; changes everything, then traps: heap, globals (i64 and f64), stable memory,
  ;; certified data, timer, reply, then `unreachable`
  (func (export "canister_update change_all_then_trap")
    (call $bump)
    (global.set $flag (f64.const 2.5))
    (i32.store (i32.const 60000) (i32.const 0xdeadbeef))
    (drop (call $stable_grow (i32.const 1)))
    (call $stable_write (i32.const 0) (i32.const 60000) (i32.const 4))
    (call $certified_data_set (i32.const 1024) (i32.const 4))
    (drop (call $global_timer_set (i64.const 123)))
    (call $reply_i64 (global.get $counter))
    unreachable)

  (func (export "canister_update change_then_explicit_trap")
    (call $bump)
    (memory.fill (i32.const 30000) (i32.const 7) (i32.const 5000))
    (call $trap (i32.const 1056) (i32.const 13)))

  (func (export "canister_update change_then_loop")
    (call $bump)
    (i32.store (i32.const 50000) (i32.const 42))
    (loop $forever (br $forever)))

  (func (export "canister_update grow_then_trap")
    (call $bump)
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 100000) (i32.const 1))
    unreachable)

  (func (export "canister_update grow")
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 70000) (i32.const 9))
    (call $reply_i32 (memory.size)))

  (func (export "canister_update reply_twice")
    (call $bump)
    (call $reply)
    (call $reply))

  (func (export "canister_update append_after_reply")
    (call $reply)
    (call $append (i32.const 0) (i32.const 1)))

  (func (export "canister_update reject")
    (call $bump)
    (call $reject (i32.const 1024) (i32.const 4)))

  (func (export "canister_update no_reply")
    (call $bump))

  (func (export "canister_update accept_message_in_update")
    (call $accept_message))

  (func (export "canister_update heap_oob_arg_copy")
    (call $arg_copy (i32.const 65535) (i32.const 0) (call $arg_size)))

  (func (export "canister_update stable_grow_write")
    (local $n i32)
    (local.set $n (call $load_arg))
    (call $reply_i32 (call $stable_grow (i32.const 1)))
    (call $stable_write (i32.const 0) (i32.const 4096) (local.get $n)))

  (func (export "canister_update stable_oob_write")
    (call $bump)
    (call $stable_write (i32.mul (call $stable_size) (i32.const 65536)) (i32.const 0) (i32.const 1)))

  (func (export "canister_update stable_grow_too_much")
    (call $reply_i64 (call $stable64_grow (i64.const 0x7fffffffffff))))

  (func (export "canister_update set_pre_upgrade_trap")
    (if (i32.eq (call $stable_size) (i32.const 0))
      (then (drop (call $stable_grow (i32.const 1)))))
    (i32.store8 (i32.const 300) (i32.const 1))
    (call $stable_write (i32.const 100) (i32.const 300) (i32.const 1))
    (call $reply))

  (func (export "canister_update set_timer")
    (drop (call $load_arg))
    (call $reply_i64 (call $global_timer_set (i64.load (i32.const 4096)))))

  (func (export "canister_update certify")
    (call $certified_data_set (i32.const 4096) (call $load_arg))
    (call $reply))

  (func (export "canister_update print")
    (call $debug_print (i32.const 4096) (call $load_arg))
    (call $reply))

  (func (export "canister_update call_other")
    ;; callee = own id, method "inc"
    (local $n i32)
    (local.set $n (call $self_size))
    (call $self_copy (i32.const 2048) (i32.const 0) (local.get $n))
    (i32.store (i32.const 2100) (i32.const 0x00636e69)) ;; "inc"
    (call $call_new (i32.const 2048) (local.get $n) (i32.const 2100) (i32.const 3)
                    (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $call_data_append (i32.const 1024) (i32.const 4))
    (call $call_cycles_add128 (i64.const 0) (i64.const 1000))
    (call $reply_i32 (call $call_perform)))

  (func (export "canister_update burn")
    (call $burn128 (i64.const 0) (i64.const 1000000) (i32.const 64))
    (call $reply_bytes (i32.const 64) (i32.const 16)))

  (func (export "canister_update accept_cycles")
    (call $accept128 (i64.const 0) (i64.const 500) (i32.const 64))
    (call $available128 (i32.const 80))
    (call $reply_bytes (i32.const 64) (i32.const 32)))

  ;; -- either ----------------------------------------------------------------------------
  (func (export "canister_query get")
    (call $reply_i64 (global.get $counter)))

  (func (export "canister_query heap_counter")
    (call $reply_i64 (i64.load (i32.const 0))))

  (func (export "canister_query read")
    ;; reply with 4 bytes of the heap at the address given as a 4-byte argument
    (drop (call $load_arg))
    (call $reply_bytes (i32.load (i32.const 4096)) (i32.const 4)))

  (func (export "canister_query flag")
    (f64.store (i32.const 64) (global.get $flag))
    (call $reply_bytes (i32.const 64) (i32.const 8)))

  (func (export "canister_query timer_runs")
    (call $reply_i32 (global.get $timer_runs)))

  (func (export "canister_query stable_read")
    ;; reply with n bytes of stable memory from offset 0, n given as a 4-byte argument
    (local $n i32)
    (drop (call $load_arg))
    (local.set $n (i32.load (i32.const 4096)))
    (call $stable_read (i32.const 8192) (i32.const 0) (local.get $n))
    (call $reply_bytes (i32.const 8192) (local.get $n)))

  (func (export "canister_query stable_size")
    (call $reply_i32 (call $stable_size)))

  (func (export "canister_query mutate")
    ;; a query that changes heap, globals and stable memory: all must be thrown away
    (call $bump)
    (global.set $flag (f64.const 9))
    (i32.store (i32.const 40000) (i32.const 1234))
    (drop (memory.grow (i32.const 1)))
    (if (i32.gt_u (call $stable_size) (i32.const 0))
      (then (call $stable_write (i32.const 0) (i32.const 40000) (i32.const 4))))
    (call $reply_i64 (global.get $counter)))

  (func (export "canister_query whoami")
    (local $n i32)
    (local.set $n (call $caller_size))
    (call $caller_copy (i32.const 2048) (i32.const 0) (local.get $n))
    (call $reply_bytes (i32.const 2048) (local.get $n)))

  (func (export "canister_query self")
    (local $n i32)
    (local.set $n (call $self_size))
    (call $self_copy (i32.const 2048) (i32.const 0) (local.get $n))
    (call $reply_bytes (i32.const 2048) (local.get $n)))

  (func (export "canister_query time")
    (call $reply_i64 (call $time)))

  (func (export "canister_query perf")
    (call $reply_i64 (call $performance_counter (i32.const 0))))

  (func (export "canister_query status")
    (i32.store (i32.const 64) (call $canister_status))
    (i64.store (i32.const 68) (call $canister_version))
    (i32.store (i32.const 76) (call $in_replicated))
    (i32.store (i32.const 80) (call $cert_present))
    (call $reply_bytes (i32.const 64) (i32.const 20)))

  (func (export "canister_query is_controller")
    (call $reply_i32 (call $is_controller (i32.const 4096) (call $load_arg))))

  (func (export "canister_query balance")
    (call $balance128 (i32.const 64))
    (i64.store (i32.const 80) (call $balance64))
    (call $reply_bytes (i32.const 64) (i32.const 24)))

  (func (export "canister_query timer_set_in_query")
    (drop (call $global_timer_set (i64.const 1))))

  (func (export "canister_query certify_in_query")
    (call $certified_data_set (i32.const 0) (i32.const 1)))

  (func (export "canister_query call_in_query")
    (call $call_new (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                    (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))

  (func (export "canister_query deep")
    (call $reply_i64 (call $fib (i64.const 30))))
  (func $fib (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
)

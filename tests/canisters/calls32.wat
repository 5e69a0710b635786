;; Inter-canister calls at the System API level: a canister that calls itself and records,
;; in its heap, what its reply, reject and cleanup callbacks saw.
;;   heap 100: env seen by the reply callback      104: replies counted by it
;;   heap 108: reject code seen by the reject cb   112: env seen by the cleanup callback
;;   heap 116: cycles refunded, as seen by the reply callback (low 8 bytes)
;;   heap 200: 1 = the reply callback traps after its writes
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $reject_msg_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $reject_msg_copy (param i32 i32 i32)))
  (import "ic0" "msg_cycles_refunded128" (func $refunded128 (param i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept128 (param i64 i64 i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $call_on_cleanup (param i32 i32)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles_add128 (param i64 i64)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory 1)
  (table 3 funcref)
  (elem (i32.const 0) $on_reply $on_reject $on_cleanup)
  (data (i32.const 2100) "echo")
  (data (i32.const 2110) "boom")
  (data (i32.const 2120) "broke")
  (data (i32.const 2130) "take")

  (func $on_reply (param $env i32)
    (i32.store (i32.const 100) (local.get $env))
    (i32.store (i32.const 104) (i32.add (i32.load (i32.const 104)) (i32.const 1)))
    (call $refunded128 (i32.const 116))
    (if (i32.load8_u (i32.const 200))
      (then (call $trap (i32.const 2120) (i32.const 5))))
    ;; reply with what the callee replied
    (call $arg_copy (i32.const 4096) (i32.const 0) (call $arg_size))
    (call $append (i32.const 4096) (call $arg_size))
    (call $reply))

  (func $on_reject (param $env i32)
    (i32.store (i32.const 108) (call $reject_code))
    (call $reject_msg_copy (i32.const 4100) (i32.const 0) (call $reject_msg_size))
    (i32.store (i32.const 4096) (call $reject_code))
    (call $append (i32.const 4096) (i32.add (i32.const 4) (call $reject_msg_size)))
    (call $reply))

  (func $on_cleanup (param $env i32)
    (i32.store (i32.const 112) (local.get $env)))

  (func $call_self (param $method i32) (param $cycles i64)
    (local $n i32)
    (local.set $n (call $self_size))
    (call $self_copy (i32.const 2048) (i32.const 0) (local.get $n))
    (call $call_new (i32.const 2048) (local.get $n) (local.get $method) (i32.const 4)
                    (i32.const 0) (i32.const 7) (i32.const 1) (i32.const 8))
    (call $call_on_cleanup (i32.const 2) (i32.const 9))
    (call $call_data_append (i32.const 2100) (i32.const 4))
    (call $call_cycles_add128 (i64.const 0) (local.get $cycles))
    (drop (call $call_perform)))

  (func (export "canister_update echo")
    (call $arg_copy (i32.const 4096) (i32.const 0) (call $arg_size))
    (call $accept128 (i64.const 0) (i64.const 300) (i32.const 3000))
    (call $append (i32.const 4096) (call $arg_size))
    (call $reply))

  (func (export "canister_update boom")
    (call $trap (i32.const 2110) (i32.const 4)))

  (func (export "canister_update call_echo")
    (call $call_self (i32.const 2100) (i64.const 1000)))

  (func (export "canister_update call_boom")
    (call $call_self (i32.const 2110) (i64.const 0)))

  (func (export "canister_update call_missing")
    (call $call_self (i32.const 2130) (i64.const 0)))

  (func (export "canister_update arm")
    (i32.store8 (i32.const 200) (i32.const 1))
    (call $reply))

  (func (export "canister_query read")
    (call $append (i32.const 100) (i32.const 32))
    (call $reply)))

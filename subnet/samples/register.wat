;; The canister the register and counter workloads of fault scenarios call
;; (subnet.sim.clients): 256 registers and 256 counters, indexed by a key.
;;
;; Arguments and replies are raw little-endian bytes, not Candid, so that the canister
;; stays a few lines of hand-checkable code:
;;   write  key:u32 value:i64        -> ""             register[key] := value
;;   read   key:u32                  -> present:i64 value:i64 (present 0: never written)
;;   cas    key:u32 from:i64 to:i64  -> 1 byte, 1 if it swapped (register[key] was from)
;;   add    key:u32 delta:i64        -> ""             counter[key] += delta
;;   get    key:u32                  -> value:i64      counter[key]
;; A wrong argument size or a key of 256 or more traps (the call is rejected, nothing
;; changes). Heap layout: registers at 0 (16 bytes each), counters at 4096 (8 bytes
;; each), the argument at 8192, a one-byte reply at 8256.
;;
;; An upgrade keeps the registers and counters: pre_upgrade copies them (6144 bytes) to
;; stable memory, post_upgrade copies them back. The upgrade faults of scenarios
;; (subnet.sim.clients.upgrade_module) edit the text between the marked lines to make
;; a module whose post_upgrade traps, or one without post_upgrade, which loses the state.
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "stable_size" (func $stable_size (result i32)))
  (import "ic0" "stable_grow" (func $stable_grow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $stable_write (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $stable_read (param i32 i32 i32)))
  (memory 1)
  (data (i32.const 8300) "bad argument")
  (data (i32.const 8320) "post_upgrade refuses")
  ;; version

  (func (export "canister_pre_upgrade")
    (if (i32.eqz (call $stable_size))
      (then (drop (call $stable_grow (i32.const 1)))))
    (call $stable_write (i32.const 0) (i32.const 0) (i32.const 6144)))

  ;; post_upgrade begin
  (func (export "canister_post_upgrade")
    (call $stable_read (i32.const 0) (i32.const 0) (i32.const 6144)))
  ;; post_upgrade end

  ;; Copy the argument (which must be $size bytes) to 8192 and return the key's index.
  (func $key (param $size i32) (result i32)
    (if (i32.ne (call $arg_size) (local.get $size))
      (then (call $trap (i32.const 8300) (i32.const 12))))
    (call $arg_copy (i32.const 8192) (i32.const 0) (local.get $size))
    (if (i32.ge_u (i32.load (i32.const 8192)) (i32.const 256))
      (then (call $trap (i32.const 8300) (i32.const 12))))
    (i32.load (i32.const 8192)))

  (func (export "canister_update write")
    (local $slot i32)
    (local.set $slot (i32.mul (call $key (i32.const 12)) (i32.const 16)))
    (i64.store (local.get $slot) (i64.const 1))
    (i64.store offset=8 (local.get $slot) (i64.load (i32.const 8196)))
    (call $reply))

  (func (export "canister_update read")
    (call $append (i32.mul (call $key (i32.const 4)) (i32.const 16)) (i32.const 16))
    (call $reply))

  (func (export "canister_update cas")
    (local $slot i32)
    (local.set $slot (i32.mul (call $key (i32.const 20)) (i32.const 16)))
    (i32.store8 (i32.const 8256) (i32.const 0))
    (if (i32.and
          (i64.ne (i64.load (local.get $slot)) (i64.const 0))
          (i64.eq (i64.load offset=8 (local.get $slot)) (i64.load (i32.const 8196))))
      (then
        (i64.store offset=8 (local.get $slot) (i64.load (i32.const 8204)))
        (i32.store8 (i32.const 8256) (i32.const 1))))
    (call $append (i32.const 8256) (i32.const 1))
    (call $reply))

  (func (export "canister_update add")
    (local $slot i32)
    (local.set $slot (i32.add (i32.const 4096) (i32.mul (call $key (i32.const 12)) (i32.const 8))))
    (i64.store (local.get $slot) (i64.add (i64.load (local.get $slot)) (i64.load (i32.const 8196))))
    (call $reply))

  (func (export "canister_update get")
    (call $append (i32.add (i32.const 4096) (i32.mul (call $key (i32.const 4)) (i32.const 8))) (i32.const 8))
    (call $reply))
)

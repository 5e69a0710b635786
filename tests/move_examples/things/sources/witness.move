/// A module with a one-time witness: its `init` receives `WITNESS` once, at publish.
module things::witness;

use sui::types;

public struct WITNESS has drop {}

public struct Proof has key {
    id: UID,
    was_one_time_witness: bool,
}

fun init(otw: WITNESS, ctx: &mut TxContext) {
    let proof = Proof { id: object::new(ctx), was_one_time_witness: types::is_one_time_witness(&otw) };
    transfer::transfer(proof, ctx.sender())
}

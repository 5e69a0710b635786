/// BCS (Binary Canonical Serialization) of Move values, the encoding of object contents,
/// events and transaction arguments.
module std::bcs;

/// The BCS bytes of `*v` (see reference/sui.md section 7 for the encoding).
public native fun to_bytes<MoveValue>(v: &MoveValue): vector<u8>;

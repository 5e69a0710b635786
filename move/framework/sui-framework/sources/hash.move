/// Blake2b and Keccak digests of byte vectors.
module sui::hash;

/// The 32-byte Blake2b-256 digest of `data`.
public native fun blake2b256(data: &vector<u8>): vector<u8>;

/// The 32-byte Keccak-256 digest of `data` (Ethereum's, not SHA3-256).
public native fun keccak256(data: &vector<u8>): vector<u8>;

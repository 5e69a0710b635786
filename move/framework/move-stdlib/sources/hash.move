/// SHA-2 and SHA-3 digests of byte vectors.
module std::hash;

/// The 32-byte SHA2-256 digest of `data`.
public native fun sha2_256(data: vector<u8>): vector<u8>;

/// The 32-byte SHA3-256 digest of `data`.
public native fun sha3_256(data: vector<u8>): vector<u8>;

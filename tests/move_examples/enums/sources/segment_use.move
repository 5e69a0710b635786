/// The project's: the body of the Move Book's `test_full_enum_cycle` (enum-and-match-2.move)
/// as a public function, its final `assert_eq!` left to the caller.
module book::segment_use;

use book::segment;
use std::string::String;

public fun full_enum_cycle(): String {
    // Create a vector of different Segment variants.
    let segments = vector[
        segment::new_empty(),
        segment::new_string(b"hello".to_string()),
        segment::new_special(b" ", 0), // plaintext
        segment::new_string(b"move".to_string()),
        segment::new_special(b"21", 1), // hex
    ];

    // Aggregate all segments into the final string using `vector::fold!` macro.
    let result = segments.fold!(b"".to_string(), |mut acc, segment| {
        // Do not append empty, only `Special` and `String`.
        if (!segment.is_empty()) {
            acc.append(segment.to_string());
        };
        acc
    });
    result
}

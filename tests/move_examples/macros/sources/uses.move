/// The project's: the Move Book's macros and its test bodies' calls, run as public functions
/// (the book's `#[test]` functions are skipped, as `sui move build` skips them).
module book::uses;

use book::macros::{max, repeat};

public fun maxes(): u256 {
    (max!(1, 2) as u256) + (max!(10u8, 5) as u256) + (max!(100u128, 200) as u256)
}

public fun repeated(): u64 {
    let mut sum = 0;
    repeat!(4, |i| sum = sum + i);
    sum
}

public fun std_macros(): (u64, Option<u64>, u64) {
    let opt = option::some(10);
    let unwrapped = opt.destroy_or!(0);
    let doubled = option::some(5).map!(|x| x * 2);
    let mut sum = 0u64;
    10u64.do!(|i| sum = sum + i);
    (unwrapped, doubled, sum)
}

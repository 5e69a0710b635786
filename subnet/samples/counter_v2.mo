// The counter's upgrade: a new method, `add`; `count` is kept across the upgrade.
persistent actor Counter {
  var count : Nat = 0;

  public func increment() : async Nat {
    count += 1;
    count
  };

  public func add(n : Nat) : async Nat {
    count += n;
    count
  };

  public query func get() : async Nat {
    count
  };
};

// A counter: the canister `make demo` deploys and `python -m bench canister` loads.
persistent actor Counter {
  var count : Nat = 0;

  public func increment() : async Nat {
    count += 1;
    count
  };

  public query func get() : async Nat {
    count
  };
};

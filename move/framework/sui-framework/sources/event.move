/// Events: values a transaction publishes in its effects for indexers and clients.
module sui::event;

/// Emit `event`; its type `T` must be defined in the calling module (a Sui verifier rule).
public native fun emit<T: copy + drop>(event: T);

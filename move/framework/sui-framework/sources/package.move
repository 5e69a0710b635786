/// Packages from within Move: proof of publishing (`Publisher`, from a one-time witness) and
/// upgrade administration (`UpgradeCap`, tickets, receipts, policies).
///
/// An upgrade runs in one transaction as three steps: `authorize_upgrade` turns the cap
/// into a ticket, the `Upgrade` command consumes the ticket and returns a receipt, and
/// `commit_upgrade` applies the receipt to the cap. Tickets and receipts have no abilities,
/// so they cannot outlive the transaction.
module sui::package;

use std::ascii::String;
use std::type_name;
use sui::object::{Self, ID, UID};
use sui::transfer;
use sui::tx_context::{Self, TxContext};
use sui::types;

/// `publisher.burn()`.
public use fun burn_publisher as Publisher.burn;
/// `publisher.module_()`.
public use fun published_module as Publisher.module_;
/// `publisher.package()`.
public use fun published_package as Publisher.package;
/// `cap.package()`.
public use fun upgrade_package as UpgradeCap.package;
/// `cap.policy()`.
public use fun upgrade_policy as UpgradeCap.policy;
/// `cap.authorize(policy, digest)`.
public use fun authorize_upgrade as UpgradeCap.authorize;
/// `cap.commit(receipt)`.
public use fun commit_upgrade as UpgradeCap.commit;
/// `ticket.package()`.
public use fun ticket_package as UpgradeTicket.package;
/// `ticket.policy()`.
public use fun ticket_policy as UpgradeTicket.policy;
/// `ticket.digest()`.
public use fun ticket_digest as UpgradeTicket.digest;
/// `receipt.cap()`.
public use fun receipt_cap as UpgradeReceipt.cap;
/// `receipt.package()`.
public use fun receipt_package as UpgradeReceipt.package;

/// Tried to create a `Publisher` using a type that isn't a one-time witness.
const ENotOneTimeWitness: u64 = 0;
/// Tried to set a less restrictive policy than currently in place.
const ETooPermissive: u64 = 1;
/// This `UpgradeCap` has already authorized a pending upgrade.
const EAlreadyAuthorized: u64 = 2;
/// This `UpgradeCap` has not authorized an upgrade.
const ENotAuthorized: u64 = 3;
/// Trying to commit an upgrade to the wrong `UpgradeCap`.
const EWrongUpgradeCap: u64 = 4;
/// Trying to read the current package ID from the `UpgradeCap` while an upgrade is in progress.
const EUpgradeInProgress: u64 = 5;
/// Invalid package version in the `UpgradeCap`.
const EInvalidPackageVersion: u64 = 6;

/// Any change that keeps the package's public interface (layouts, abilities, signatures).
const COMPATIBLE: u8 = 0;
/// Only additions: existing code, private functions included, may not change.
const ADDITIVE: u8 = 128;
/// Only the dependencies may change.
const DEP_ONLY: u8 = 192;

/// Proof that its holder published the package (and module) a type comes from.
public struct Publisher has key, store {
    id: UID,
    package: String,
    module_name: String,
}

/// The right to upgrade a package. Made by publishing with `version` 1 and the compatible
/// policy, and sent to the publisher.
public struct UpgradeCap has key, store {
    id: UID,
    /// The latest version's id; `0x0` while an upgrade is authorized but not committed.
    package: ID,
    /// How many versions the package has: 1 at publish, one more per upgrade.
    version: u64,
    /// The loosest upgrade this cap authorizes (a larger number is stricter).
    policy: u8,
}

/// Permission for one upgrade of `package`, with contents of `digest`, under `policy`.
public struct UpgradeTicket {
    /// The `UpgradeCap` that issued this ticket.
    cap: ID,
    /// The package to upgrade (its latest version's id).
    package: ID,
    /// The policy the upgrade is checked against.
    policy: u8,
    /// The digest of the new modules and dependencies (reference/sui.md section 3).
    digest: vector<u8>,
}

/// The outcome of an upgrade, to be committed to the cap in the same transaction.
public struct UpgradeReceipt {
    /// The `UpgradeCap` this receipt belongs to.
    cap: ID,
    /// The id of the new version.
    package: ID,
}

/// A `Publisher` for the package and module of the one-time witness `otw`; aborts with
/// `ENotOneTimeWitness` if `otw` is not one.
public fun claim<OTW: drop>(otw: OTW, ctx: &mut TxContext): Publisher {
    assert!(types::is_one_time_witness(&otw), ENotOneTimeWitness);
    let type_name = type_name::get_with_original_ids<OTW>();
    Publisher {
        id: object::new(ctx),
        package: type_name::address_string(&type_name),
        module_name: type_name::module_string(&type_name),
    }
}

/// `claim`, then send the `Publisher` to the sender (the publisher, inside `init`).
public fun claim_and_keep<OTW: drop>(otw: OTW, ctx: &mut TxContext) {
    let publisher = claim(otw, ctx);
    transfer::public_transfer(publisher, tx_context::sender(ctx))
}

/// Destroy a `Publisher`.
public fun burn_publisher(self: Publisher) {
    let Publisher { id, package: _, module_name: _ } = self;
    object::delete(id);
}

/// Whether `T` comes from the publisher's package.
public fun from_package<T>(self: &Publisher): bool {
    let type_name = type_name::get_with_original_ids<T>();
    type_name::address_string(&type_name) == self.package
}

/// Whether `T` comes from the publisher's module.
public fun from_module<T>(self: &Publisher): bool {
    let type_name = type_name::get_with_original_ids<T>();
    (type_name::address_string(&type_name) == self.package) &&
        (type_name::module_string(&type_name) == self.module_name)
}

/// The publisher's module name.
public fun published_module(self: &Publisher): &String {
    &self.module_name
}

/// The publisher's package address, as 64 hex digits.
public fun published_package(self: &Publisher): &String {
    &self.package
}

/// The latest version's id, or `0x0` while an upgrade is pending.
public fun upgrade_package(cap: &UpgradeCap): ID {
    cap.package
}

/// The package's version (1 at publish, one more per upgrade).
public fun version(cap: &UpgradeCap): u64 {
    cap.version
}

/// The loosest kind of upgrade `cap` authorizes.
public fun upgrade_policy(cap: &UpgradeCap): u8 {
    cap.policy
}

/// The package `ticket` authorizes an upgrade of.
public fun ticket_package(ticket: &UpgradeTicket): ID {
    ticket.package
}

/// The policy of the upgrade `ticket` authorizes.
public fun ticket_policy(ticket: &UpgradeTicket): u8 {
    ticket.policy
}

/// The cap `receipt` must be committed to.
public fun receipt_cap(receipt: &UpgradeReceipt): ID {
    receipt.cap
}

/// The new version's id.
public fun receipt_package(receipt: &UpgradeReceipt): ID {
    receipt.package
}

/// The digest the new package must have.
public fun ticket_digest(ticket: &UpgradeTicket): &vector<u8> {
    &ticket.digest
}

/// The compatible policy (0).
public fun compatible_policy(): u8 {
    COMPATIBLE
}

/// The additive policy (128).
public fun additive_policy(): u8 {
    ADDITIVE
}

/// The dependency-only policy (192).
public fun dep_only_policy(): u8 {
    DEP_ONLY
}

/// Restrict `cap` to additive upgrades; aborts with `ETooPermissive` if it is stricter already.
public entry fun only_additive_upgrades(cap: &mut UpgradeCap) {
    restrict(cap, ADDITIVE)
}

/// Restrict `cap` to dependency-only upgrades.
public entry fun only_dep_upgrades(cap: &mut UpgradeCap) {
    restrict(cap, DEP_ONLY)
}

/// Destroy `cap`: the package can never be upgraded again.
public entry fun make_immutable(cap: UpgradeCap) {
    let UpgradeCap { id, package: _, version: _, policy: _ } = cap;
    object::delete(id);
}

/// A ticket for one upgrade with contents `digest` under `policy`. Aborts with
/// `EAlreadyAuthorized` if a ticket is outstanding, `ETooPermissive` if `policy` is looser
/// than the cap's. Marks the cap as busy (`package` = 0x0) until `commit_upgrade`.
public fun authorize_upgrade(cap: &mut UpgradeCap, policy: u8, digest: vector<u8>): UpgradeTicket {
    let id_zero = object::id_from_address(@0x0);
    assert!(cap.package != id_zero, EAlreadyAuthorized);
    assert!(policy >= cap.policy, ETooPermissive);
    let package = cap.package;
    cap.package = id_zero;
    UpgradeTicket { cap: object::id(cap), package, policy, digest }
}

/// Apply `receipt` to `cap`: the new version's id, one more version. Aborts with
/// `EWrongUpgradeCap` if the receipt is for another cap, `ENotAuthorized` if the cap has
/// no upgrade outstanding.
public fun commit_upgrade(cap: &mut UpgradeCap, receipt: UpgradeReceipt) {
    let UpgradeReceipt { cap: cap_id, package } = receipt;
    assert!(object::id(cap) == cap_id, EWrongUpgradeCap);
    assert!(object::id_to_address(&cap.package) == @0x0, ENotAuthorized);
    cap.package = package;
    cap.version = cap.version + 1;
}

/// The first version's id of the package `cap` upgrades. Aborts with `EUpgradeInProgress`
/// while an upgrade is authorized, `EInvalidPackageVersion` if the package stored at
/// `cap.package` is not at `cap.version`.
public fun original_package_id(cap: &UpgradeCap): ID {
    let latest = cap.package;
    assert!(object::id_to_address(&latest) != @0x0, EUpgradeInProgress);
    assert!(cap.version > 0, EInvalidPackageVersion);
    object::id_from_address(original_package_id_impl(object::id_to_address(&latest), cap.version))
}

/// The original id of the package stored at `package_id`, which must be at `version`
/// (else `EInvalidPackageVersion`).
native fun original_package_id_impl(package_id: address, version: u64): address;

fun restrict(cap: &mut UpgradeCap, policy: u8) {
    assert!(cap.policy <= policy, ETooPermissive);
    cap.policy = policy;
}

/// The metadata keys a state driver writes about the store itself when it creates it: which format
/// and schema it holds, since when. They describe the store, not the job, so they are never copied
/// from one store to another nor removed when a state is emptied. The schedule's digest goes with
/// the classes a store keeps beside its items, which are not copied either: the store that receives
/// a copy computes them again.
public enum StoreMetadataKeys {
    public static let own: Set<String> = ["format", "schema", "created_at", Schedule.digestKey]
}

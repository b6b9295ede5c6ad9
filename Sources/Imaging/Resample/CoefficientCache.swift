import Foundation

/// The fixed-point coefficients of recent resizes, so a worker that makes the
/// same sizes over and over (every eCard 600x400, every 150x150 thumbnail of a
/// 24 MP photo) does not recompute them: on the 320x200 and 1280x800 resizes
/// that was 5-9 % of the call (`perf record`, issue 11).
///
/// Keyed by everything the coefficients depend on: the axis' input and output
/// size, the filter, the tap multiple the kernel pads to and the layout of the
/// packed horizontal weights (path and channel count). Entries are immutable
/// values, so a hit returns exactly what a recomputation would.
final class CoefficientCache: @unchecked Sendable {
    struct Key: Hashable {
        let inSize: Int
        let outSize: Int
        let filter: ResampleFilter
        let tapMultiple: Int
        /// The path whose horizontal layout was packed (nil: not packed, the vertical pass).
        let packedFor: KernelPath?
        let channels: Int
    }

    /// A few sizes per process are typical (one per thumbnail size and source shape).
    static let shared = CoefficientCache(capacity: 16)

    private let capacity: Int
    private let lock = NSLock()
    // Guarded by `lock`; most recently used last. Nil values are cached too:
    // "no padded coefficients for a row this narrow".
    private var entries: [(key: Key, value: FixedPointCoefficients?)] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The cached coefficients for `key`, or `make()`'s (cached before being returned).
    /// `make` runs outside the lock, so two threads that miss together both
    /// compute; their results are the same.
    func coefficients(_ key: Key, make: () -> FixedPointCoefficients?) -> FixedPointCoefficients? {
        if case let .some(hit) = lookup(key) { return hit }
        let value = make()
        lock.lock()
        defer { lock.unlock() }
        if !entries.contains(where: { $0.key == key }) {
            if entries.count == capacity { entries.removeFirst() }
            entries.append((key, value))
        }
        return value
    }

    /// Number of entries held (for tests).
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }

    /// `.none` on a miss; a hit moves the entry to the most recently used end.
    private func lookup(_ key: Key) -> FixedPointCoefficients?? {
        lock.lock()
        defer { lock.unlock() }
        guard let index = entries.firstIndex(where: { $0.key == key }) else { return .none }
        let entry = entries.remove(at: index)
        entries.append(entry)
        return .some(entry.value)
    }
}

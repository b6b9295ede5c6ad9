/// Lets at most `permits` tasks through at once; the others wait in arrival
/// order. The batch runner puts its uploads behind one, so `--jobs 8` means
/// eight jobs on the network whatever the processing ahead of them does.
actor AsyncGate {
    private var available: Int
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWaiterID: UInt64 = 0

    init(permits: Int) {
        available = max(1, permits)
    }

    /// Waits for a permit. Returns false, holding none, when the task is
    /// cancelled before one is free (Ctrl-C pauses the run).
    func enter() async -> Bool {
        if Task.isCancelled { return false }
        if available > 0 {
            available -= 1
            return true
        }
        let id = nextWaiterID
        nextWaiterID += 1
        return await withTaskCancellationHandler {
            // Runs on the actor before any `drop` below can, so the waiter is
            // always registered before its cancellation is looked at.
            await withCheckedContinuation { waiting.append((id, $0)) }
        } onCancel: {
            Task { await self.drop(id) }
        }
    }

    /// Gives a permit back: to the longest waiter, or to the pool.
    func leave() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().continuation.resume(returning: true)
        }
    }

    private func drop(_ id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(returning: false)
    }
}

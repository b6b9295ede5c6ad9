import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `JobStore` in memory: for tests of the engine and for callers who want the
/// engine's rules without persistence (as NIOEmbedded is to a socket). It passes
/// the same contract suite as the durable stores; it survives nothing.
public actor InMemoryJobStore: JobStore {
    /// A run whose heartbeat is older than this is dead.
    public let leaseDuration: TimeInterval
    private let clock: @Sendable () -> Date

    private struct Run {
        var info: RunInfo
        var ended: RunEnd?
        /// Set by `simulateCrash`: the process is gone, as a lock file would tell.
        var crashed = false
    }
    private struct Holder {
        var runID: Int64
        var fence: Int64
    }

    private var target: APITarget?
    private var jobs: [String: JournalJob] = [:]
    /// Keys in the order they were planned.
    private var order: [String] = []
    private var holders: [String: Holder] = [:]
    private var fences: [String: Int64] = [:]
    private var runs: [Int64: Run] = [:]
    private var nextRunID: Int64 = 1
    private var abandoned: [AbandonedAsset] = []
    private var lastEnd: RunEnd?

    public init(leaseDuration: TimeInterval = 60, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.leaseDuration = leaseDuration
        self.clock = clock
    }

    /// The run stops as a killed process does: no `endRun`, no more heartbeats.
    /// Other runs may take its jobs at once.
    public func simulateCrash(of lease: RunLease) {
        runs[lease.runID]?.crashed = true
    }

    // MARK: Workers

    private func isAlive(_ runID: Int64, now: Date) -> Bool {
        guard let run = runs[runID], run.ended == nil, !run.crashed else { return false }
        return now.timeIntervalSince(run.info.heartbeatAt) < leaseDuration
    }

    public func beginRun() async throws(JournalError) -> RunLease {
        let now = clock()
        var tookOver: [RunInfo] = []
        for (id, run) in runs.sorted(by: { $0.key < $1.key }) where run.ended == nil && !isAlive(id, now: now) {
            runs[id]?.ended = .finished
            holders = holders.filter { $0.value.runID != id }
            tookOver.append(run.info)
        }
        let id = nextRunID
        nextRunID += 1
        let info = RunInfo(runID: id, pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: now, heartbeatAt: now)
        runs[id] = Run(info: info)
        return RunLease(runID: id, pid: info.pid, host: info.host, startedAt: now, tookOver: tookOver)
    }

    public func heartbeat(_ lease: RunLease) async throws(JournalError) {
        let now = clock()
        guard isAlive(lease.runID, now: now) else {
            throw JournalError(.leaseLost, "run \(lease.runID) was declared dead; its claims may belong to another worker now")
        }
        runs[lease.runID]?.info.heartbeatAt = now
    }

    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) {
        guard runs[lease.runID]?.ended == nil else { return }
        runs[lease.runID]?.ended = end
        holders = holders.filter { $0.value.runID != lease.runID }
        lastEnd = end
    }

    // MARK: Target

    public func bind(to target: APITarget) async throws(JournalError) {
        guard let bound = self.target else {
            self.target = target
            return
        }
        guard bound != target else { return }
        throw JournalError(.targetMismatch, "the store records uploads to \(bound), but this run is configured for \(target)")
    }

    public func boundTarget() async throws(JournalError) -> APITarget? { target }

    // MARK: Jobs

    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        let (job, outcome) = JournalRules.plan(plan, existing: jobs[plan.key], now: clock())
        if jobs[plan.key] == nil { order.append(plan.key) }
        jobs[plan.key] = job
        return outcome
    }

    private func claimable(_ key: String, now: Date) -> Bool {
        guard let job = jobs[key], job.step != .done else { return false }
        guard let holder = holders[key] else { return true }
        return !isAlive(holder.runID, now: now)
    }

    private func takeClaim(_ key: String, _ lease: RunLease) -> JobClaim {
        let fence = (fences[key] ?? 0) + 1
        fences[key] = fence
        holders[key] = Holder(runID: lease.runID, fence: fence)
        return JobClaim(jobKey: key, runID: lease.runID, fence: fence)
    }

    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        let now = clock()
        guard isAlive(lease.runID, now: now) else { throw JournalError(.leaseLost, "run \(lease.runID) was declared dead") }
        var claims: [JobClaim] = []
        for key in keys where claimable(key, now: now) { claims.append(takeClaim(key, lease)) }
        return claims
    }

    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        let now = clock()
        guard isAlive(lease.runID, now: now) else { throw JournalError(.leaseLost, "run \(lease.runID) was declared dead") }
        var claims: [JobClaim] = []
        for key in order where claims.count < limit {
            guard jobs[key]?.error == nil, claimable(key, now: now) else { continue }
            claims.append(takeClaim(key, lease))
        }
        return claims
    }

    public func release(_ claim: JobClaim) async throws(JournalError) {
        if holders[claim.jobKey]?.fence == claim.fence { holders[claim.jobKey] = nil }
    }

    private func checkFence(_ claim: JobClaim) throws(JournalError) -> JournalJob {
        guard let job = jobs[claim.jobKey] else { throw JournalError(.unknownJob, "no job \(claim.jobKey.prefix(12)) in the store") }
        guard let holder = holders[claim.jobKey], holder.fence == claim.fence, holder.runID == claim.runID,
              isAlive(claim.runID, now: clock())
        else {
            throw JournalError(.fenced, "job \(claim.jobKey.prefix(12)): claim \(claim.fence) of run \(claim.runID) is no longer the job's; the write was refused")
        }
        return job
    }

    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        let job = try checkFence(claim)
        let (next, gaveUp) = try JournalRules.apply(step, to: job, now: clock())
        jobs[claim.jobKey] = next
        abandoned += gaveUp
    }

    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        _ = try checkFence(claim)
        abandoned.append(AbandonedAsset(assetID: assetID, jobKey: claim.jobKey, position: item, reason: reason, at: clock()))
    }

    // MARK: Reading

    public func job(key: String) async throws(JournalError) -> JournalJob? { jobs[key] }

    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        order.compactMap { jobs[$0] }.filter { $0.step != .done }
    }

    /// Held lock names; waiters poll (an actor's methods interleave at `await`).
    private var heldLocks: Set<String> = []

    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                               _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        while heldLocks.contains(name) { try await Task.sleep(for: .milliseconds(2)) }
        heldLocks.insert(name)
        defer { heldLocks.remove(name) }
        let (value, step) = try await body()
        try await recordLockedStep(step, under: claim)
        return value
    }

    public func status(batch: String?) async throws(JournalError) -> JournalStatus {
        let now = clock()
        func state(_ step: JobStep, _ error: String?) -> String { error == nil ? step.rawValue : "failed" }
        var jobCounts: [String: Int] = [:], itemCounts: [String: Int] = [:]
        var failures: [JournalStatus.Failure] = []
        var lastUpload: Date?
        let scoped = order.compactMap { jobs[$0] }.filter { batch == nil || $0.plan.batch == batch }
        for job in scoped {
            jobCounts[state(job.step, job.error), default: 0] += 1
            for item in job.items {
                itemCounts[state(item.step, item.error), default: 0] += 1
                if let at = item.uploadedAt { lastUpload = max(lastUpload ?? at, at) }
            }
            if let error = job.error {
                failures.append(.init(jobKey: job.plan.key, role: job.plan.role, target: job.plan.target,
                                      sourcePath: job.plan.sourcePath, error: error, at: job.updatedAt))
            }
        }
        let live = runs.keys.sorted().filter { isAlive($0, now: now) }.compactMap { id -> RunInfo? in
            guard var info = runs[id]?.info else { return nil }
            info.claimedJobs = holders.values.filter { $0.runID == id }.count
            return info
        }
        let incomplete = scoped.contains { $0.step != .done }
        let keys = Set(scoped.map(\.plan.key))
        return JournalStatus(jobCounts: jobCounts, itemCounts: itemCounts, failures: failures.sorted { $0.at < $1.at },
                             lastSuccessfulUpload: lastUpload, activeRuns: live,
                             paused: live.isEmpty && lastEnd == .paused && incomplete,
                             abandonedCount: abandoned.filter { keys.contains($0.jobKey) }.count,
                             possiblyOrphanedCount: scoped.reduce(0) { $0 + $1.possiblyOrphaned })
    }

    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] {
        order.compactMap { jobs[$0] }.filter { batch == nil || $0.plan.batch == batch }.flatMap(\.items)
    }

    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] { abandoned }
}

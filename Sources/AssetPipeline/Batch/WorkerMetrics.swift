import Metrics

/// The worker's metrics, through swift-metrics (any backend; the CLI's
/// `work --metrics-port` serves them in Prometheus' text format). Names follow
/// Prometheus conventions: `_total` for counters, base units.
enum WorkerMetrics {
    static let jobsClaimed = Counter(label: "asset_worker_jobs_claimed_total")
    /// Claims of a job some other run held before (its worker died or was cut off).
    static let jobsReclaimed = Counter(label: "asset_worker_jobs_reclaimed_total")
    static let jobsDone = Counter(label: "asset_worker_jobs_done_total")
    static let jobsFailed = Counter(label: "asset_worker_jobs_failed_total")
    static let imagesUploaded = Counter(label: "asset_worker_images_uploaded_total")
    static let bytesUploaded = Counter(label: "asset_worker_bytes_uploaded_total")
    static let leaseRenewals = Counter(label: "asset_worker_lease_renewals_total")
    /// Jobs of the store not done and not failed, as last seen by this worker.
    static let queueDepth = Gauge(label: "asset_worker_queue_depth")
}

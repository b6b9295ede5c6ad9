import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `work --metrics-port P`: the worker's metrics in Prometheus' text format on
/// `GET /metrics`, and `GET /healthz` (200 while the worker runs), on loopback
/// or the address given. swift-metrics is bootstrapped with the Prometheus
/// factory once, before the worker makes any metric.
struct MetricsEndpoint {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(host: String, port: Int, logger: Logger) async throws -> MetricsEndpoint {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let router = Router()
        router.get("/metrics") { _, _ in registry.emitToString() }
        router.get("/healthz") { _, _ in "ok\n" }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "asset-worker"),
                              logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task { try await group.run() }
        return MetricsEndpoint(group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

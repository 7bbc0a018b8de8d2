import Logging
import ServiceLifecycle

/// Writes the recorded calls every fifth of a second, and what is left at shutdown.
public struct TrailWriter: Service {
    private let trail: TrailService
    private let logger: Logger

    public init(trail: TrailService, logger: Logger) {
        self.trail = trail
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                await flush()
            }
        }
        await flush()
    }

    private func flush() async {
        do {
            try await trail.flush()
        } catch {
            logger.error("writing CloudTrail events failed", metadata: ["error": "\(error)"])
        }
    }
}

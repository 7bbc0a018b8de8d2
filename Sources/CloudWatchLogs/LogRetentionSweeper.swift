import Logging
import ServiceLifecycle

/// Deletes, once a minute, the events their groups' retention no longer keeps (reads leave them out as soon as
/// they expire; this reclaims the space).
public struct LogRetentionSweeper: Service {
    private let logs: LogsService
    private let logger: Logger

    public init(logs: LogsService, logger: Logger) {
        self.logs = logs
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await logs.expireEvents()
                } catch {
                    logger.error("expiring log events failed; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}

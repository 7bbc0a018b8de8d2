import Logging
import ServiceLifecycle

/// Keeps the text index up with the writes (a batch whenever there are new events), and deletes, once a
/// minute, the events their groups' retention no longer keeps (reads leave them out as soon as they expire;
/// this reclaims the space).
public struct LogRetentionSweeper: Service {
    private let logs: LogsService
    private let logger: Logger

    public init(logs: LogsService, logger: Logger) {
        self.logs = logs
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            var lastExpiry = ContinuousClock.now - .seconds(60)
            while !Task.isCancelled {
                do {
                    if ContinuousClock.now - lastExpiry >= .seconds(60) {
                        try await logs.expireEvents()
                        lastExpiry = .now
                    }
                    // A full batch means more are waiting: go on at once.
                    if try await logs.indexPendingEvents() == 5_000 { continue }
                } catch {
                    logger.error("maintaining log events failed; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

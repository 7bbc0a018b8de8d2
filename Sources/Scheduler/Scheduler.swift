import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle
import Synchronization

/// kube-scheduler for one cluster: while it holds the `kube-system/kube-scheduler` Lease it places every
/// pending pod whose `schedulerName` is `default-scheduler`, one at a time against its snapshot of the
/// nodes (filter, then score), and binds it through `pods/binding`. A pod that fits nowhere gets
/// `PodScheduled=False` and a `FailedScheduling` event, and waits until a node or pod changes.
public struct Scheduler: Service {
    let client: KubeClient
    let identity: String
    let logger: Logger

    public static let name = "default-scheduler"
    public static let user = UserInfo(name: "system:kube-scheduler", groups: ["system:authenticated"])

    let leaseTiming: LeaseTiming

    public init(server: APIServer, identity: String, logger: Logger, leaseTiming: LeaseTiming = .kube) {
        self.leaseTiming = leaseTiming
        client = KubeClient(server: server, user: Self.user, userAgent: "kube-scheduler/\(server.version.gitVersion)")
        self.identity = identity
        self.logger = logger
    }

    public func run() async throws {
        var candidate = LeaderElector(client: client, name: "kube-scheduler", identity: identity, timing: leaseTiming)
        candidate.logger = logger
        let elector = candidate
        await cancelWhenGracefulShutdown {
            await elector.run { await schedule() }
        }
    }

    /// Schedules until cancelled.
    public func schedule() async {
        let informers = SharedInformers(client: client)
        guard let pods = try? await informers.informer("pods"), let nodes = try? await informers.informer("nodes"),
              let podResource = try? client.resource("pods"), let eventResource = try? client.resource("events") else { return }
        let state = SchedulingState()
        let queue = WorkQueue<ObjectKey>()
        nodes.addHandler { event in
            switch event {
            case .sync(let key):
                if let node = nodes.get(key) { state.updateNode(Node(node)) }
            case .change(let change):
                if change.kind == .deleted { state.removeNode(change.key.name) } else { state.updateNode(Node(change.object)) }
            }
            // A node came, went or changed: pods that fit nowhere may fit now.
            for key in state.takeUnschedulable() { queue.add(key) }
        }
        pods.addHandler { event in
            guard let object = pods.current(event) else {
                state.removePod(event.key)
                for key in state.takeUnschedulable() { queue.add(key) }
                return
            }
            let pod = Pod(object)
            if pod.nodeName != nil || pod.isTerminal {
                if pod.isTerminal { state.removePod(pod.key) } else { state.placePod(pod) }
                if pod.isTerminal || pod.isBeingDeleted { for key in state.takeUnschedulable() { queue.add(key) } }
            } else if pod.schedulerName == Self.name, !pod.isBeingDeleted {
                if !state.isWaiting(pod.key) { queue.add(pod.key) }
            }
        }
        informers.start()
        await informers.waitForSync()
        let binder = Binder(client: client, pods: podResource, events: eventResource, state: state, queue: queue, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.runDelays() }
            group.addTask {
                while let key = await queue.next() {
                    await binder.scheduleOne(key, pod: pods.get(key))
                    queue.done(key)
                }
            }
            await withTaskCancellationHandler {
                await group.next()
            } onCancel: {
                queue.shutDown()
            }
            group.cancelAll()
            await binder.drain()
        }
        await informers.stop()
    }
}

/// The nodes as the scheduler sees them, with what pods take of each, and the pods waiting for room.
final class SchedulingState: Sendable {
    private struct State {
        var nodes: [String: NodeInfo] = [:]
        /// Where each counted pod is counted.
        var placements: [ObjectKey: String] = [:]
        /// Pods that fit nowhere, until the cluster changes.
        var unschedulable: Set<ObjectKey> = []
        /// Node names in a stable order; each attempt starts where the last one stopped, as kube-scheduler's does.
        var order: [String] = []
        var nextStart = 0
    }

    private let state = Mutex(State())

    func updateNode(_ node: Node) {
        state.withLock { state in
            if state.nodes[node.name] == nil { state.order.append(node.name) }
            if state.nodes[node.name] == nil {
                state.nodes[node.name] = NodeInfo(node: node)
            } else {
                state.nodes[node.name]!.update(node)
            }
        }
    }

    func removeNode(_ name: String) {
        state.withLock { state in
            state.nodes.removeValue(forKey: name)
            state.order.removeAll { $0 == name }
        }
    }

    /// Counts a pod on its node (bound, or assumed bound).
    func placePod(_ pod: Pod, on nodeName: String? = nil) {
        guard let name = nodeName ?? pod.nodeName else { return }
        state.withLock { state in
            if let current = state.placements[pod.key], current != name { state.nodes[current]?.remove(pod.key) }
            state.placements[pod.key] = name
            state.nodes[name]?.add(pod)
            state.unschedulable.remove(pod.key)
        }
    }

    func removePod(_ key: ObjectKey) {
        state.withLock { state in
            if let name = state.placements.removeValue(forKey: key) { state.nodes[name]?.remove(key) }
            state.unschedulable.remove(key)
        }
    }

    /// Counted on a node already: bound, or assumed bound while its binding is written.
    func isPlaced(_ key: ObjectKey) -> Bool { state.withLock { $0.placements[key] != nil } }

    func markUnschedulable(_ key: ObjectKey) { _ = state.withLock { $0.unschedulable.insert(key) } }

    func isWaiting(_ key: ObjectKey) -> Bool { state.withLock { $0.unschedulable.contains(key) } }

    func takeUnschedulable() -> [ObjectKey] {
        state.withLock { state in
            defer { state.unschedulable.removeAll() }
            return Array(state.unschedulable)
        }
    }

    /// Filters the nodes for `pod` until enough fit, and scores those: the best node, or why none fits.
    func place(_ pod: Pod) -> Result<String, FitError> {
        let requirements = PodRequirements(pod)
        return state.withLock { state in
            var best: (name: String, score: Int64)?
            var failures: [[FilterFailure]] = []
            let count = state.order.count
            let wanted = Plugins.feasibleNodesToFind(count)
            var feasible = 0
            var visited = 0
            while visited < count, feasible < wanted {
                let name = state.order[(state.nextStart + visited) % count]
                visited += 1
                guard let info = state.nodes[name] else { continue }
                let reasons = Plugins.filter(requirements, on: info)
                if !reasons.isEmpty {
                    failures.append(reasons)
                    continue
                }
                feasible += 1
                let score = Plugins.score(requirements, on: info)
                if best == nil || score > best!.score { best = (name, score) }
            }
            if count > 0 { state.nextStart = (state.nextStart + visited) % count }
            if let best { return .success(best.name) }
            return .failure(FitError(message: Plugins.failureMessage(nodes: count, failures: failures)))
        }
    }
}

struct FitError: Error {
    let message: String
}

/// Binds placed pods, several at once (binding is the write that takes time), and reports failures.
final class Binder: Sendable {
    let client: KubeClient
    let pods: ResourceType
    let events: ResourceType
    let state: SchedulingState
    let queue: WorkQueue<ObjectKey>
    let logger: Logger
    /// Bindings in flight; the scheduling loop waits when there are this many.
    static let parallelism = 32
    private let inFlight = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    init(client: KubeClient, pods: ResourceType, events: ResourceType, state: SchedulingState, queue: WorkQueue<ObjectKey>, logger: Logger) {
        self.client = client
        self.pods = pods
        self.events = events
        self.state = state
        self.queue = queue
        self.logger = logger
    }

    func scheduleOne(_ key: ObjectKey, pod object: JSON?) async {
        guard let object else { return }
        let pod = Pod(object)
        guard pod.nodeName == nil, !pod.isBeingDeleted, !pod.isTerminal, pod.schedulerName == Scheduler.name,
              !state.isPlaced(pod.key) else { return }
        switch state.place(pod) {
        case .success(let node):
            // Assumed on the node at once, so the next pod sees the room it takes.
            state.placePod(pod, on: node)
            await acquireSlot()
            Task { [self] in
                defer { releaseSlot() }
                await bind(pod, to: node)
            }
        case .failure(let error):
            state.markUnschedulable(pod.key)
            await reportUnschedulable(pod, message: error.message)
        }
    }

    func bind(_ pod: Pod, to node: String) async {
        let binding: JSON = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name), "namespace": .string(pod.namespace)],
                             "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)]]
        do {
            try await client.write(pods, pod.key, subresource: "binding", body: binding)
            logger.info("Successfully bound pod to node", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "node": "\(node)"])
            await recordEvent(for: pod, type: "Normal", reason: "Scheduled",
                              message: "Successfully assigned \(pod.namespace)/\(pod.name) to \(node)")
        } catch let error as APIError where error.isNotFound || error.isConflict {
            // Deleted, or bound by someone else meanwhile: what it took is given back.
            state.removePod(pod.key)
        } catch {
            state.removePod(pod.key)
            queue.addRateLimited(pod.key)
        }
    }

    func reportUnschedulable(_ pod: Pod, message: String) async {
        var updated = pod.object
        updated.setCondition(Condition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message))
        if updated[path: ["status", "conditions"]] != pod.object[path: ["status", "conditions"]] {
            _ = try? await client.updateStatus(pods, updated)
            await recordEvent(for: pod, type: "Warning", reason: "FailedScheduling", message: message)
        }
    }

    /// A core/v1 Event about the pod, as `kubectl describe` and `kubectl get events` show them.
    func recordEvent(for pod: Pod, type: String, reason: String, message: String) async {
        let now = Timestamps.format(Date())
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string("\(pod.name)."), "namespace": .string(pod.namespace)],
            "involvedObject": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name), "namespace": .string(pod.namespace),
                               "uid": .string(pod.uid)],
            "type": .string(type), "reason": .string(reason), "message": .string(message),
            "source": ["component": .string(Scheduler.name)], "reportingComponent": .string(Scheduler.name),
            "reportingInstance": .string(Scheduler.name), "action": "Scheduling",
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "eventTime": .string(Timestamps.formatMicro(Date())), "count": 1,
        ]
        _ = try? await client.create(events, event)
    }

    private func acquireSlot() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = inFlight.withLock { state -> Bool in
                if state.count < Self.parallelism {
                    state.count += 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func releaseSlot() {
        let waiter = inFlight.withLock { state -> CheckedContinuation<Void, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.count -= 1
            return nil
        }
        waiter?.resume()
    }

    /// Waits for the bindings in flight.
    func drain() async {
        while inFlight.withLock({ $0.count }) > 0 { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

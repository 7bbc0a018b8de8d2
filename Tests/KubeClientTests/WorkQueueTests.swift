import Testing
@testable import KubeClient

struct WorkQueueTests {
    @Test func aKeyAddedTwiceWhileWaitingIsQueuedOnce() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        queue.add("b")
        queue.add("a")
        #expect(queue.count == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(queue.count == 0)
    }

    @Test func aKeyAddedWhileProcessedComesBackOnlyWhenDone() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        let key = await queue.next()
        queue.add("a")
        // Not handed to a second worker while the first has it.
        #expect(queue.count == 0)
        queue.done(key!)
        #expect(queue.count == 1)
        #expect(await queue.next() == "a")
    }

    @Test func failuresBackOffExponentiallyUpToTheLimit() {
        let queue = WorkQueue<String>(baseDelay: .milliseconds(5), maxDelay: .seconds(1))
        #expect(queue.backoff(failures: 1) == .milliseconds(5))
        #expect(queue.backoff(failures: 3) == .milliseconds(20))
        #expect(queue.backoff(failures: 30) == .seconds(1))
        queue.addRateLimited("a")
        queue.addRateLimited("a")
        #expect(queue.failures("a") == 2)
        queue.forget("a")
        #expect(queue.failures("a") == 0)
    }

    @Test(.timeLimit(.minutes(1))) func delayedKeysArriveInTheirOrderAndASoonerOneIsNotHeldBack() async {
        let queue = WorkQueue<String>()
        let pump = Task { await queue.runDelays() }
        let start = ContinuousClock.now
        queue.add("late", after: .seconds(30))
        queue.add("soon", after: .milliseconds(20))
        #expect(await queue.next() == "soon")
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(queue.count == 0)
        queue.shutDown()
        await pump.value
        #expect(await queue.next() == nil)
    }

    @Test(.timeLimit(.minutes(1))) func shutDownReleasesWaitingWorkers() async {
        let queue = WorkQueue<Int>()
        let worker = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(20))
        queue.shutDown()
        #expect(await worker.value == nil)
    }
}

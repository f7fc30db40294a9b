import NIOConcurrencyHelpers
import NIOCore

/// Closes a connection when a block write does not complete in time. Re-armed before every block; runs on the
/// channel's event loop, so it costs a timer per block and nothing while idle.
public final class StallWatchdog: Sendable {
    private let channel: any Channel
    private let deadline: TimeAmount
    private let timer = NIOLockedValueBox<Scheduled<Void>?>(nil)

    public init(channel: any Channel, deadline: TimeAmount) {
        self.channel = channel
        self.deadline = deadline
    }

    public func arm() {
        let channel = self.channel
        let scheduled = channel.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
        timer.withLockedValue { previous in
            previous?.cancel()
            previous = scheduled
        }
    }

    public func stop() {
        timer.withLockedValue {
            $0?.cancel()
            $0 = nil
        }
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether
/// it held (the last check is made after the deadline).
@discardableResult
public func eventually(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

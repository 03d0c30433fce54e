import Foundation

/// The median of `xs` (the upper middle value for an even count), the figure every suite
/// reports next to its best; NaN when there is no sample, so a missing measurement never
/// prints as a plausible 0.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
}

/// The `p`-th percentile (0…100) of `xs`: the sample at rank `p/100·(n−1)` rounded, so the
/// 50th is the median's neighbour and the 99th of 400 samples is the 5th largest; NaN when
/// there is no sample.
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int((p / 100 * Double(s.count - 1)).rounded()))]
}

/// CPU time of the whole process so far, all threads, in seconds (`CLOCK_PROCESS_CPUTIME_ID`).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

import Foundation

/// The median of `xs` (the upper middle value for an even count), the figure every suite
/// reports next to its best; NaN when there is no sample, so a missing measurement never
/// prints as a plausible 0.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
}

/// CPU time of the whole process so far, all threads, in seconds (`CLOCK_PROCESS_CPUTIME_ID`).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

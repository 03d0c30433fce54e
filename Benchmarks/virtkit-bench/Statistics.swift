/// The median of `xs` (the upper middle value for an even count), the figure every suite
/// reports next to its best; NaN when there is no sample, so a missing measurement never
/// prints as a plausible 0.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
}

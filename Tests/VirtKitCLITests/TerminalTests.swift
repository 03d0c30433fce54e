import Foundation
import Testing
@testable import virtkit

@Suite struct TerminalTests {
    @Test func colourOnlyOnATerminalAndNeverWithNoColor() {
        #expect(Terminal.colorEnabled(isTTY: true, noColor: nil, term: "xterm-256color"))
        #expect(Terminal.colorEnabled(isTTY: true, noColor: "", term: "xterm"))
        #expect(!Terminal.colorEnabled(isTTY: true, noColor: "1", term: "xterm"))
        #expect(!Terminal.colorEnabled(isTTY: false, noColor: nil, term: "xterm"))
        #expect(!Terminal.colorEnabled(isTTY: true, noColor: nil, term: "dumb"))
        #expect(Terminal.paint("x", .red, enabled: false) == "x")
        #expect(Terminal.paint("x", .red, enabled: true) == "\u{1B}[31mx\u{1B}[0m")
    }

    /// The bar is drawn only on a terminal and never in JSON mode; its text is 30 cells,
    /// the percentage and the detail, clamped to 0…100 % (NaN reads as 0).
    @Test func progressBarsOnlyOnATerminalAndClamped() {
        #expect(ProgressBar(json: false, isTTY: true).enabled)
        #expect(!ProgressBar(json: false, isTTY: false).enabled)
        #expect(!ProgressBar(json: true, isTTY: true).enabled)
        #expect(ProgressBar.text(fraction: 0.5, detail: "1.0 MiB") == "[" + String(repeating: "#", count: 15) + String(repeating: " ", count: 15) + "]  50.0 %  1.0 MiB")
        #expect(ProgressBar.text(fraction: 2, detail: "", prefix: "g → h ") == "g → h [" + String(repeating: "#", count: 30) + "] 100.0 %")
        #expect(ProgressBar.text(fraction: .nan, detail: "") == "[" + String(repeating: " ", count: 30) + "]   0.0 %")
        #expect(ProgressBar.text(fraction: -1, detail: "x").hasSuffix("]   0.0 %  x"))
    }

    @Test func tablesFitTheTerminalAndPipedOutputIsNotCut() {
        let rows = [["NAME", "STATE"], [String(repeating: "a", count: 60), "running"], ["b", "paused"]]
        let narrow = TextTable.render(rows, maxWidth: 30, color: false)
        for line in narrow.split(separator: "\n") { #expect(line.count <= 30, "\(line)") }
        #expect(narrow.contains("…"))
        let piped = TextTable.render(rows, maxWidth: nil, color: false)
        #expect(piped.contains(String(repeating: "a", count: 60) + "  running"))
    }

    @Test func colouredCellsKeepTheirColumns() {
        let rows = [["S", "X"], ["running", "1"]]
        let plain = TextTable.render(rows, maxWidth: nil, color: false)
        let coloured = TextTable.render(rows, maxWidth: nil, style: { r, c, _ in r > 0 && c == 0 ? .green : nil }, color: true)
        #expect(coloured.replacingOccurrences(of: "\u{1B}[32m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "") == plain)
        #expect(coloured.contains("\u{1B}[32mrunning\u{1B}[0m"))
    }

    @Test func controlCharactersInCellsCannotReachTheTerminal() {
        let out = TextTable.render([["a\u{1B}[2Jb"]], maxWidth: nil, color: false)
        #expect(!out.contains("\u{1B}"))
    }
}

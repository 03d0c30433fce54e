import Foundation

/// What the output goes to: progress bars and colour only on a terminal, colour never with
/// `NO_COLOR` (no-color.org) or `TERM=dumb`, tables as wide as the terminal.
enum Terminal {
    static func isTTY(_ fd: Int32 = STDOUT_FILENO) -> Bool { isatty(fd) == 1 }

    /// Colour on stdout: a terminal, `NO_COLOR` unset or empty, `TERM` not `dumb`.
    static var colorEnabled: Bool {
        let env = ProcessInfo.processInfo.environment
        return colorEnabled(isTTY: isTTY(), noColor: env["NO_COLOR"], term: env["TERM"])
    }

    static func colorEnabled(isTTY: Bool, noColor: String?, term: String?) -> Bool {
        isTTY && (noColor ?? "").isEmpty && term != "dumb"
    }

    /// Columns of the terminal on stdout (`TIOCGWINSZ`, else `$COLUMNS`); nil when stdout is
    /// not a terminal: piped output is never cut.
    static var width: Int? {
        guard isTTY() else { return nil }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
    }

    enum Color: String { case red = "31", green = "32", yellow = "33", dim = "2" }

    /// `text` in `color` when colour is enabled, else unchanged.
    static func paint(_ text: String, _ color: Color?, enabled: Bool = colorEnabled) -> String {
        guard enabled, let color else { return text }
        return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
    }
}

/// A one-line progress bar redrawn in place on stderr (`[#####     ]  42.0 %  detail`), for
/// transfers and migrations: only when stderr is a terminal and the output is not JSON, so
/// piped output never holds a carriage return or an escape sequence.
struct ProgressBar: Sendable {
    let enabled: Bool

    init(json: Bool, isTTY: Bool = Terminal.isTTY(STDERR_FILENO)) { enabled = isTTY && !json }

    static let width = 30

    /// The bar's text after `prefix`: 30 cells, the percentage, then `detail`.
    static func text(fraction: Double, detail: String, prefix: String = "") -> String {
        let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let filled = Int(f * Double(width))
        return prefix + "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            + String(format: "] %5.1f %%", f * 100) + (detail.isEmpty ? "" : "  " + detail)
    }

    /// Redraws the bar (nothing when disabled).
    func draw(fraction: Double, detail: String, prefix: String = "") {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + Self.text(fraction: fraction, detail: detail, prefix: prefix)).utf8))
    }

    /// Erases the bar so the next line starts clean (nothing when disabled).
    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Left-aligned columns sized to their widest cell; when `maxWidth` is given and the table
/// is wider, the widest columns are cut (ending in `…`) until it fits. Cells are made
/// terminal-safe first. `style` may colour a cell after it was padded (colour codes take no
/// columns).
enum TextTable {
    static func render(_ rows: [[String]], indent: Int = 0, maxWidth: Int? = Terminal.width,
                       style: (_ row: Int, _ column: Int, _ cell: String) -> Terminal.Color? = { _, _, _ in nil },
                       color: Bool = Terminal.colorEnabled) -> String {
        let rows = rows.map { $0.map(terminalSafe) }
        var widths: [Int] = []
        for r in rows {
            for (i, c) in r.enumerated() {
                if i >= widths.count { widths.append(0) }
                widths[i] = max(widths[i], c.count)
            }
        }
        let gap = 2
        if let maxWidth, !widths.isEmpty {
            var total = indent + widths.reduce(0, +) + gap * (widths.count - 1)
            while total > maxWidth, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > 4 {
                widths[widest] -= 1
                total -= 1
            }
        }
        let prefix = String(repeating: " ", count: indent)
        return rows.enumerated().map { ri, r in
            prefix + r.enumerated().map { ci, cell in
                var c = cell
                if c.count > widths[ci] { c = String(c.prefix(widths[ci] - 1)) + "…" }
                let padded = ci == r.count - 1 ? c : c + String(repeating: " ", count: widths[ci] - c.count + gap)
                guard let s = style(ri, ci, cell) else { return padded }
                return Terminal.paint(c, s, enabled: color) + String(padded.dropFirst(c.count))
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}

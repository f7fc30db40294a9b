import Foundation

/// Human units and aligned tables for terminal output.
enum Format {
    /// 1536 → "1.5 KiB". Binary units, as `ls -h` and `du -h` use.
    static func bytes(_ value: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: amount < 10 ? "%.1f %@" : "%.0f %@", amount, units[unit])
    }

    /// Milliseconds → "3:07" or "1:02:03". Interpolated, not `String(format:)`: `%d` takes a C int, so an `Int64`
    /// argument prints the wrong half on armhf (1:02:03 as 1:00:02).
    static func duration(milliseconds: Int64) -> String {
        let total = max(0, milliseconds) / 1000
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let seconds = total % 60
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(seconds))" : "\(minutes):\(twoDigits(seconds))"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// A measured time: "850 ms", "12.4 s", "3:07".
    static func elapsed(milliseconds: Int) -> String {
        switch milliseconds {
        case ..<1000: "\(milliseconds) ms"
        case ..<60_000: String(format: "%.1f s", Double(milliseconds) / 1000)
        default: duration(milliseconds: Int64(milliseconds))
        }
    }

    /// Seconds → "3d 4h", "2h 5m", "4m 10s", "12s".
    static func age(seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds)s"
        case ..<3600: "\(seconds / 60)m \(seconds % 60)s"
        case ..<86400: "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        default: "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
        }
    }

    /// 3221225472 → "3,221,225,472": any integer type, so sizes stay `Int64` (a 32-bit `Int` cannot hold 3 GiB).
    static func count(_ value: some BinaryInteger) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    /// `part` as a whole percentage of `whole`, rounded toward zero (0 when `whole` is not positive), for any
    /// `Int64` sizes: `part * 100` is computed in 128 bits, since in 64 it overflows past 92 PB.
    static func percent(_ part: Int64, of whole: Int64) -> Int64 {
        guard whole > 0 else { return 0 }
        // Below this the quotient fits in Int64; above it the percentage is beyond any meaning anyway.
        guard (part / whole).magnitude < UInt64(Int64.max / 100) else { return part < 0 ? .min : .max }
        return whole.dividingFullWidth(part.multipliedFullWidth(by: 100)).quotient
    }

    /// A `Double` rounded toward zero and clamped to `Int64` (NaN is 0): numbers computed from what the daemon sent,
    /// which converting with `Int(...)` would trap on when out of range.
    static func wholeNumber(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 0x1p63 { return .max }
        if value < -0x1p63 { return .min }
        return Int64(value)
    }

    /// How many of `width` cells a progress bar fills for `fraction` (clamped to 0...1).
    static func filledCells(_ fraction: Double, width: Int) -> Int {
        Int(clamping: min(max(wholeNumber(fraction * Double(width)), 0), Int64(width)))
    }
}

/// A table whose columns are as wide as their widest cell; numeric columns align right.
struct Table {
    enum Alignment { case left, right }
    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []
    /// Cells longer than this are cut with an ellipsis, so one long title does not wrap every line.
    var maximumWidth = 48

    init(_ columns: [(String, Alignment)]) {
        headers = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        // Escaped before measuring, so a cell is as wide as what the terminal shows.
        let cut = rows.map {
            $0.map(Output.shown).map { cell in
                cell.count > maximumWidth ? String(cell.prefix(maximumWidth - 1)) + "…" : cell
            }
        }
        var widths = headers.map(\.count)
        for row in cut {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                if index == cells.count - 1, alignments[index] == .left { return cell }
                return alignments[index] == .right ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }
        return ([line(headers)] + cut.map(line)).joined(separator: "\n")
    }
}

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

    /// Milliseconds → "3:07" or "1:02:03".
    static func duration(milliseconds: Int64) -> String {
        let total = milliseconds / 1000
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let seconds = total % 60
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, seconds) : String(format: "%d:%02d", minutes, seconds)
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
    static func age(seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(seconds)s"
        case ..<3600: "\(seconds / 60)m \(seconds % 60)s"
        case ..<86400: "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        default: "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
        }
    }

    static func count(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
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

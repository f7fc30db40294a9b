/// Why a value was rejected; the validator adds the file, line and key.
struct InvalidValue: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A string as a TOML basic string, which is also how messages quote what
/// the user wrote, so that it can be searched for in the file.
func quoted(_ text: some StringProtocol) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case _ where scalar.properties.generalCategory == .control:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs, the only blanks that
    /// can sensibly appear around a value inside a TOML string.
    func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }),
            let last = lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(self[first...last])
    }
}

/// The known name closest to an unknown one, for "did you mean" hints.
///
/// Names match when they are a typo apart (optimal string alignment
/// distance, so that a swapped pair of letters counts as one typo), or when
/// one contains the other, which catches `port` for `http_port`.
func closestName(to name: String, among candidates: [String]) -> String? {
    let normalized = name.lowercased().replacingHyphens()
    guard !normalized.isEmpty else { return nil }
    let threshold = max(1, normalized.count / 3)
    let ranked =
        candidates
        .map { (candidate: $0, distance: typoDistance(normalized, $0)) }
        .filter { $0.distance <= threshold }
        .min { $0.distance < $1.distance }
    if let ranked { return ranked.candidate }
    if normalized.count >= 4 {
        return candidates.first { $0.contains(normalized) || normalized.contains($0) }
    }
    return nil
}

extension String {
    fileprivate func replacingHyphens() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of adjacent characters each cost one.
func typoDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}

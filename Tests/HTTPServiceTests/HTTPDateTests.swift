import Testing

@testable import HTTPService

/// The `Date` header, formatted per response.
struct HTTPDateTests {
    /// A fresh regex each time: `Regex` is not `Sendable`, so it cannot be a shared constant.
    static var imfFixdate: Regex<(Substring, Substring, Substring)> {
        /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT/
    }

    @Test func isInIMFFixdateForm() {
        #expect(HTTPDate.now().wholeMatch(of: Self.imfFixdate) != nil)
    }
}

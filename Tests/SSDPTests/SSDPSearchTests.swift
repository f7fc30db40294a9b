import SSDP
import Testing

@Suite struct SSDPSearchTests {
    @Test func readsTheSearchTargetAndMX() {
        let search = SSDPSearch(datagram: Fixture.search("ssdp:all", mx: "3"))
        #expect(search == SSDPSearch(searchTarget: "ssdp:all", maximumWait: 3))
    }

    @Test func headerNamesAreCaseInsensitiveAndValuesTrimmed() {
        let text = "M-SEARCH * HTTP/1.1\r\nman:\"ssdp:discover\"\r\nst:   upnp:rootdevice \t\r\nmx:2\r\n\r\n"
        #expect(
            SSDPSearch(datagram: Array(text.utf8))
                == SSDPSearch(searchTarget: "upnp:rootdevice", maximumWait: 2))
    }

    @Test func acceptsBareLineFeeds() {
        let text = "M-SEARCH * HTTP/1.1\nMAN: \"ssdp:discover\"\nST: ssdp:all\nMX: 1\n\n"
        #expect(SSDPSearch(datagram: Array(text.utf8))?.searchTarget == "ssdp:all")
    }

    @Test(arguments: [
        "NOTIFY * HTTP/1.1", "HTTP/1.1 200 OK", "M-SEARCH * HTTP/1.0", "m-search * HTTP/1.1", "M-SEARCH / HTTP/1.1",
        "GET / HTTP/1.1",
    ])
    func ignoresAnythingButAnMSearchRequest(_ requestLine: String) {
        let text = "\(requestLine)\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: 1\r\n\r\n"
        #expect(SSDPSearch(datagram: Array(text.utf8)) == nil)
    }

    @Test(arguments: ["\"ssdp:alive\"", "\"ssdp:discover", "discover", ""])
    func requiresMANToBeSSDPDiscover(_ man: String) {
        #expect(SSDPSearch(datagram: Fixture.search("ssdp:all", man: man)) == nil)
    }

    @Test func requiresASearchTarget() {
        #expect(SSDPSearch(datagram: Fixture.search("")) == nil)
        let text = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\r\n"
        #expect(SSDPSearch(datagram: Array(text.utf8)) == nil)
    }

    @Test(arguments: [("0", 0), ("5", 5), ("120", 120)] as [(String, Int)])
    func readsANonNegativeIntegerMX(_ value: String, _ seconds: Int) {
        #expect(SSDPSearch(datagram: Fixture.search("ssdp:all", mx: value))?.maximumWait == seconds)
    }

    @Test(arguments: ["", "abc", "-1", "1.5", "+2", "99999999999999999999"])
    func malformedMXIsNoMX(_ value: String) {
        let search = SSDPSearch(datagram: Fixture.search("ssdp:all", mx: value))
        #expect(search?.searchTarget == "ssdp:all")
        #expect(search?.maximumWait == nil)
    }

    @Test func ignoresADatagramOverTwoKibibytes() {
        let padding = "X-PAD: " + String(repeating: "a", count: 2048) + "\r\n"
        let text = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n\(padding)\r\n"
        #expect(SSDPSearch(datagram: Array(text.utf8)) == nil)
        let fitting = Array(Fixture.search("ssdp:all")) + Array(repeating: UInt8(ascii: "a"), count: 100)
        #expect(fitting.count <= SSDPSearch.maximumSize)
        #expect(SSDPSearch(datagram: fitting) != nil)
    }

    @Test func ignoresMoreThanThirtyHeaderLines() {
        let base = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n"
        let thirty = base + (3...30).map { "X-\($0): y\r\n" }.joined() + "\r\n"
        let thirtyOne = base + (3...31).map { "X-\($0): y\r\n" }.joined() + "\r\n"
        #expect(SSDPSearch(datagram: Array(thirty.utf8)) != nil)
        #expect(SSDPSearch(datagram: Array(thirtyOne.utf8)) == nil)
    }

    @Test func ignoresRepeatedHeaders() {
        let text = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nST: upnp:rootdevice\r\n\r\n"
        #expect(SSDPSearch(datagram: Array(text.utf8)) == nil)
    }

    @Test func ignoresAHeaderLineWithoutAColon() {
        let text = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\ngarbage\r\n\r\n"
        #expect(SSDPSearch(datagram: Array(text.utf8)) == nil)
    }

    @Test func ignoresControlCharacters() {
        var bytes = Fixture.search("ssdp:all")
        bytes.insert(0, at: 30)
        #expect(SSDPSearch(datagram: bytes) == nil)
    }

    @Test func ignoresAnEmptyOrBinaryDatagram() {
        #expect(SSDPSearch(datagram: [UInt8]()) == nil)
        #expect(SSDPSearch(datagram: (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37) }) == nil)
    }
}

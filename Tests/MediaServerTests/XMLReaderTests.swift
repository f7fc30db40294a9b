import Testing

@testable import MediaServer

@Suite struct XMLReaderTests {
    private func read(_ text: String, limits: XMLReader.Limits = .init()) throws(XMLReadError) -> XMLElement {
        try XMLReader.read(Array(text.utf8), limits: limits)
    }

    @Test func resolvesNamespacesOfPrefixesAndDefaults() throws {
        let root = try read(
            """
            <?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>\
            <Browse xmlns="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0</ObjectID></Browse>\
            </s:Body></s:Envelope>
            """)
        #expect(root.localName == "Envelope")
        #expect(root.namespace == "http://schemas.xmlsoap.org/soap/envelope/")
        let browse = try #require(root.child("Body")?.children.first)
        #expect(browse.localName == "Browse")
        #expect(browse.namespace == "urn:schemas-upnp-org:service:ContentDirectory:1")
        #expect(browse.child("ObjectID")?.namespace == "urn:schemas-upnp-org:service:ContentDirectory:1")
        #expect(browse.child("ObjectID")?.text == "0")
    }

    @Test func resolvesThePredefinedEntitiesAndCharacterReferences() throws {
        let root = try read("<a b=\"&quot;x&quot;\">&lt;&gt;&amp;&apos;&#65;&#x42;&#x263A;</a>")
        #expect(root.text == "<>&'AB☺")
        #expect(root.attributes["b"] == "\"x\"")
    }

    @Test func readsCDATAAndSkipsComments() throws {
        let root = try read("<a><!-- note --><![CDATA[<x>&amp;]]></a>")
        #expect(root.text == "<x>&amp;")
    }

    @Test func refusesADoctype() {
        #expect(throws: XMLReadError.doctype) {
            try read("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>")
        }
    }

    @Test func refusesTheBillionLaughs() {
        let lol = """
            <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\
            <lolz>&lol2;</lolz>
            """
        #expect(throws: XMLReadError.doctype) { try read(lol) }
    }

    @Test func refusesAnEntityThatIsNotPredefined() {
        #expect(throws: XMLReadError.undefinedEntity) { try read("<a>&xxe;</a>") }
        #expect(throws: XMLReadError.undefinedEntity) { try read("<a b=\"&nbsp;\"/>") }
    }

    @Test func refusesADocumentBeyondItsSize() {
        var limits = XMLReader.Limits()
        limits.maxBytes = 16
        #expect(throws: XMLReadError.tooLarge) { try read("<a>0123456789abcdef</a>", limits: limits) }
    }

    @Test func refusesNestingBeyondItsDepth() {
        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: XMLReadError.tooDeep) { try read(deep) }
    }

    @Test func refusesMoreElementsThanItsBound() {
        let wide = "<a>" + String(repeating: "<b/>", count: 600) + "</a>"
        #expect(throws: XMLReadError.tooManyElements) { try read(wide) }
    }

    @Test(arguments: [
        "", "<a>", "<a></b>", "<a b=c/>", "<a b=\"1\" b=\"2\"/>", "<a/><b/>", "<a>&#0;</a>", "<a>&#xD800;</a>",
        "<a>&amp</a>", "text", "<a\"/>",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: XMLReadError.self) { try read(text) }
    }

    @Test func refusesTextThatIsNotUTF8() {
        #expect(throws: XMLReadError.self) { try XMLReader.read([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E]) }
    }
}

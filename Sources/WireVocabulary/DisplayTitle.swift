/// What a listing shows for an item: its title tag, or else its file name. Shared by the peer catalog's and the
/// control API's item types, so both wires title an object alike.
package enum DisplayTitle {
    package static func of(title: String?, path: String?) -> String? {
        if let title, !title.isEmpty { return title }
        return path.flatMap { $0.split(separator: "/").last.map(String.init) }
    }
}

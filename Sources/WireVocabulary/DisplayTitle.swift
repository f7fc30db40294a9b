/// What a listing shows for an item: its title tag, or else its file name. Shared by the peer catalog's and the
/// control API's item types, so both wires title an object alike.
///
/// The path is the file's identity (``FileSystemName``, which keeps bytes that are not UTF-8); the title is only
/// ever shown, so it is made readable here: a Latin-1 name shows as `café`, and no control character (a newline,
/// an escape, from the name or from a tag) reaches a listing.
package enum DisplayTitle {
    package static func of(title: String?, path: String?) -> String? {
        if let title, !title.isEmpty { return DisplayText.replacingControls(title) }
        return path.flatMap { $0.split(separator: "/").last.map { FileSystemName.displayText(String($0)) } }
    }
}

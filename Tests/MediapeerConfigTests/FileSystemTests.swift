import Foundation
import MediapeerConfig
import Testing

/// Validation against the file system, always inside a temporary directory.
@Suite("File system checks")
struct FileSystemTests {
    @Test func existingMediaDirsAreAccepted() throws {
        try withTemporaryDirectory { root in
            try makeDirectory("\(root)/music")
            try makeDirectory("\(root)/photos")
            let text = try privateDirectories(in: root) + "\nmedia_dirs = [\"\(root)/music\", \"\(root)/photos/\"]"
            let config = try parsed(text, checkFileSystem: true)
            #expect(config.mediaDirs == ["\(root)/music", "\(root)/photos"])
            #expect(config.warnings == [])
        }
    }

    @Test func missingMediaDirIsReportedOnItsElementLine() throws {
        try withTemporaryDirectory { root in
            try makeDirectory("\(root)/music")
            let text =
                try privateDirectories(in: root) + """

                    media_dirs = [
                        "\(root)/music",
                        "\(root)/nope",
                    ]
                    """
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:6: media_dirs[1]: "\#(root)/nope" does not exist"#
                ])
        }
    }

    @Test func mediaDirThatIsAFileIsRejected() throws {
        try withTemporaryDirectory { root in
            _ = FileManager.default.createFile(atPath: "\(root)/song.mp3", contents: Data())
            let text = try privateDirectories(in: root) + "\nmedia_dirs = [\"\(root)/song.mp3\"]"
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:4: media_dirs[0]: "\#(root)/song.mp3" is not a directory"#
                ])
        }
    }

    @Test func duplicateMediaDirsAreRejected() throws {
        #expect(
            messages(#"media_dirs = ["/srv/media", "/srv/photos", "/srv//media/"]"#) == [
                #"test.toml:1: media_dirs[2]: "/srv//media/" is listed twice (also media_dirs[0])"#
            ])
    }

    @Test func nestedMediaDirsAreRejectedWhicheverComesFirst() throws {
        let text = """
            media_dirs = [
                "/srv/media/photos",
                "/srv/media",
                "/srv/music",
                "/srv/music/live",
            ]
            """
        #expect(
            messages(text) == [
                #"test.toml:2: media_dirs[0]: "/srv/media/photos" is inside media_dirs[1] ("/srv/media"), which already shares it; remove one of them"#,
                #"test.toml:5: media_dirs[3]: "/srv/music/live" is inside media_dirs[2] ("/srv/music"), which already shares it; remove one of them"#,
            ])
    }

    @Test func siblingsWithACommonPrefixAreNotNested() throws {
        #expect(try parsed(#"media_dirs = ["/srv/media", "/srv/media2"]"#).mediaDirs.count == 2)
    }

    @Test func nestingThroughASymbolicLinkIsRejected() throws {
        try withTemporaryDirectory { root in
            try makeDirectory("\(root)/disk/photos")
            try FileManager.default.createSymbolicLink(
                atPath: "\(root)/pictures", withDestinationPath: "\(root)/disk/photos")
            let text = try privateDirectories(in: root) + "\nmedia_dirs = [\"\(root)/disk\", \"\(root)/pictures\"]"
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:4: media_dirs[1]: "\#(root)/pictures" (really "\#(root)/disk/photos") is inside media_dirs[0] ("\#(root)/disk"), which already shares it; remove one of them"#
                ])
        }
    }

    @Test func sameDirectoryThroughASymbolicLinkIsRejected() throws {
        try withTemporaryDirectory { root in
            try makeDirectory("\(root)/media")
            try FileManager.default.createSymbolicLink(atPath: "\(root)/alias", withDestinationPath: "\(root)/media")
            let text = try privateDirectories(in: root) + "\nmedia_dirs = [\"\(root)/media\", \"\(root)/alias\"]"
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:4: media_dirs[1]: "\#(root)/alias" (really "\#(root)/media") is the same directory as media_dirs[0] ("\#(root)/media")"#
                ])
        }
    }

    @Test func missingStateDirWithExistingParentIsAccepted() throws {
        try withTemporaryDirectory { root in
            let text = """
                state_dir = "\(root)/new-state"
                cache_dir = "\(root)/cache"
                control_socket = "\(root)/run/control.sock"
                """
            let config = try parsed(text, checkFileSystem: true)
            #expect(config.stateDir == "\(root)/new-state")
        }
    }

    @Test func stateDirWithMissingParentIsRejected() throws {
        try withTemporaryDirectory { root in
            let text = """
                state_dir = "\(root)/missing/state"
                cache_dir = "\(root)/cache"
                control_socket = "\(root)/run/control.sock"
                """
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:1: state_dir: neither "\#(root)/missing/state" nor its parent "\#(root)/missing" exists; mediapeerd creates only the directory itself, so create "\#(root)/missing" first"#
                ])
        }
    }

    @Test func cacheDirThatIsAFileIsRejected() throws {
        try withTemporaryDirectory { root in
            _ = FileManager.default.createFile(atPath: "\(root)/cache", contents: Data())
            let text = try privateDirectories(in: root)
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:2: cache_dir: "\#(root)/cache" exists but is not a directory"#
                ])
        }
    }

    @Test func cacheDirInsideAMediaDirIsRejected() throws {
        let text = """
            media_dirs = ["/srv/media"]
            cache_dir = "/srv/media/.cache"
            """
        #expect(
            messages(text) == [
                #"test.toml:2: cache_dir: "/srv/media/.cache" is inside media_dirs[0] ("/srv/media"), so mediapeer's own files would be shared as media; choose a directory outside the media directories"#
            ])
    }

    @Test func controlSocketWhoseDirectoryAndItsParentAreMissingIsRejected() throws {
        try withTemporaryDirectory { root in
            let text = try privateDirectories(in: root).replacingOccurrences(of: "\(root)/run/", with: "\(root)/a/b/")
            #expect(
                messages(text, checkFileSystem: true) == [
                    #"test.toml:3: control_socket: neither the socket's directory "\#(root)/a/b" nor its parent "\#(root)/a" exists; mediapeerd creates only the socket's directory"#
                ])
        }
    }

    @Test func controlSocketThatIsADirectoryIsRejected() throws {
        try withTemporaryDirectory { root in
            try makeDirectory("\(root)/run/control.sock")
            #expect(
                messages(try privateDirectories(in: root), checkFileSystem: true) == [
                    #"test.toml:3: control_socket: "\#(root)/run/control.sock" is a directory; give the socket's file name, as in "\#(root)/run/control.sock/control.sock""#
                ])
        }
    }

    @Test func fileSystemIsNotConsultedWhenCheckingIsOff() throws {
        let config = try parsed(#"media_dirs = ["/nonexistent/mediapeer/test"]"# + "\nstate_dir = \"/nonexistent/a/b\"")
        #expect(config.mediaDirs == ["/nonexistent/mediapeer/test"])
    }
}

import Foundation

/// Reading a simulated home's end state into `BoxFacts`, apart from the daemons: digests with Perl's Digest::SHA,
/// content ids by the documented formula (docs/ARCHITECTURE.md, "Content identity"), the index with `sqlite3`.
extension SimulatedHome {
    /// Every regular file under box `index`'s media folder: path relative to it → SHA-256, and the bytes read.
    func mediaDigests(_ index: Int) throws -> (digests: [String: String], bytes: Int64) {
        let script = #"""
            use Digest::SHA; use File::Find;
            my $root = $ARGV[0];
            find({ no_chdir => 1, wanted => sub {
                return unless -f $_ && !-l $_;
                my $sha = Digest::SHA->new(256); $sha->addfile($_, "b");
                my $relative = substr($File::Find::name, length($root) + 1);
                print $sha->hexdigest, " ", -s $_, " ", $relative, "\n";
            } }, $root);
            """#
        let result = try Command.run("/usr/bin/perl", ["-e", script, box(index) + "/media"], timeout: .seconds(300))
        guard result.status == 0 else { throw TestFailure("hashing box \(index)'s media failed: \(result.stderr)") }
        var digests: [String: String] = [:]
        var bytes: Int64 = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let size = Int64(fields[1]) else { continue }
            digests[String(fields[2])] = String(fields[0])
            bytes += size
        }
        return (digests, bytes)
    }

    /// The files in box `index`'s `cache_dir/objects`, each complete one with the content id its bytes hash to.
    func cacheFiles(_ index: Int) throws -> (files: [BoxFacts.CacheFile], bytesVerified: Int64) {
        let files = try Self.contentIDs(ofFilesIn: box(index) + "/cache/objects")
        let verified = files.filter { $0.contentIDOfBytes != nil }.reduce(Int64(0)) { $0 + $1.size }
        return (files, verified)
    }

    /// The regular files directly in `folder` (none if it is missing), each but a `.partial` one with the content id
    /// its bytes hash to.
    static func contentIDs(ofFilesIn folder: String) throws -> [BoxFacts.CacheFile] {
        // content_id = SHA-256("mediapeer-content-v1\0" ‖ u64be(size) ‖ u32be(1 MiB) ‖ SHA-256 of each 1 MiB chunk).
        let script = #"""
            use Digest::SHA qw(sha256 sha256_hex);
            my $folder = $ARGV[0];
            opendir(my $dir, $folder) or exit 0;
            for my $name (sort grep { !/^\./ } readdir($dir)) {
                my $path = "$folder/$name"; next unless -f $path;
                my $size = -s $path;
                if ($name =~ /\.partial$/) { print "$size $name -\n"; next; }
                open(my $file, "<:raw", $path) or die "$path: $!";
                my ($chunk, $hashes) = ("", "");
                while (read($file, $chunk, 1048576)) { $hashes .= sha256($chunk); }
                close($file);
                my $id = sha256_hex("mediapeer-content-v1\0" . pack("Q>", $size) . pack("N", 1048576) . $hashes);
                print "$size $name $id\n";
            }
            """#
        let result = try Command.run("/usr/bin/perl", ["-e", script, folder], timeout: .seconds(300))
        guard result.status == 0 else { throw TestFailure("hashing the files in \(folder) failed: \(result.stderr)") }
        var files: [BoxFacts.CacheFile] = []
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let size = Int64(fields[0]) else { continue }
            let id = fields[2] == "-" ? nil : String(fields[2])
            files.append(BoxFacts.CacheFile(name: String(fields[1]), size: size, contentIDOfBytes: id))
        }
        return files
    }

    /// Rows of `sql` on box `index`'s index (a reader beside the daemon, as WAL allows), fields split at `|`.
    func indexRows(_ index: Int, _ sql: String) throws -> [[String]] {
        let result = try Command.run(
            "/usr/bin/sqlite3", ["-cmd", ".timeout 10000", box(index) + "/state/index.sqlite", sql],
            timeout: .seconds(120))
        guard result.status == 0 else { throw TestFailure("box \(index): sqlite3 \(sql) failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Box `index`'s peer id, as its daemon reports it (the id is derived from the box's key: asked after recovery).
    func peerID(_ index: Int) throws -> String { try status(index).peerID }

    /// What box `observer`'s index lists of box `subject`'s catalog.
    func catalogView(of subject: Int, in observer: Int) throws -> CatalogView {
        let peer = try peerID(subject)
        let rows = try indexRows(
            observer, "SELECT lower(hex(content_id)), complete FROM remote_object WHERE peer_id = '\(peer)';")
        var entries: [String: Bool] = [:]
        for row in rows where row.count == 2 { entries[row[0]] = row[1] == "1" }
        return CatalogView(observer: observer, subject: subject, entries: entries)
    }

    /// What box `index`'s index says it holds: its media files' content ids and its replica records (complete or
    /// not), with `facts`' other fields empty.
    func holdings(_ index: Int) throws -> BoxFacts {
        let ids = try indexRows(index, "SELECT lower(hex(content_id)) FROM media WHERE content_id IS NOT NULL;")
        let replicas = try indexRows(index, "SELECT lower(hex(content_id)), complete FROM replica;")
        return BoxFacts(
            box: index, peerID: "", mediaBefore: [:], mediaAfter: [:], integrityCheck: "", indexedPaths: [],
            mediaContentIDs: Set(ids.compactMap(\.first)),
            replicaRecords: Dictionary(replicas.filter { $0.count == 2 }.map { ($0[0], $0[1] == "1") }) { a, _ in a },
            cacheFiles: [], cacheMaxBytes: 0, statusAnsweredAfter: nil, daemonRunning: true)
    }

    /// Box `index`'s facts; `mediaBefore` is what its media folder held before the fault.
    func facts(
        _ index: Int, mediaBefore: [String: String], cacheMaxBytes: Int64, statusAnsweredAfter: Duration?,
        unplayable: Set<String> = []
    ) throws -> (facts: BoxFacts, filesChecked: Int, bytesVerified: Int64) {
        let media = try mediaDigests(index)
        let cache = try cacheFiles(index)
        let integrity = try indexRows(index, "PRAGMA integrity_check;").map { $0.joined(separator: "|") }
        let indexed = try indexRows(index, "SELECT rel_path FROM media;").map { $0.joined(separator: "|") }
        let held = try holdings(index)
        let running = (try? ctl(index, ["status"]).status) == 0
        let facts = BoxFacts(
            box: index, peerID: try peerID(index), mediaBefore: mediaBefore, mediaAfter: media.digests,
            integrityCheck: integrity.joined(separator: "\n"), indexedPaths: Set(indexed),
            mediaContentIDs: held.mediaContentIDs, replicaRecords: held.replicaRecords,
            cacheFiles: cache.files, cacheMaxBytes: cacheMaxBytes, statusAnsweredAfter: statusAnsweredAfter,
            daemonRunning: running, unplayable: unplayable)
        return (facts, media.digests.count + cache.files.count, media.bytes + cache.bytesVerified)
    }
}

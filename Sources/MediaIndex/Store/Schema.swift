import GRDB

/// The versioned schema of the index. Never edit a registered migration: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: roots, media, manifests, search") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        key TEXT PRIMARY KEY NOT NULL,
                        value ANY
                    ) WITHOUT ROWID, STRICT;

                    -- One row per configured media folder. Rows of a folder that is missing at scan time are kept, so a
                    -- USB drive that mounts late does not empty the library.
                    CREATE TABLE root (
                        id INTEGER PRIMARY KEY,
                        path TEXT NOT NULL UNIQUE
                    ) STRICT;

                    CREATE TABLE media (
                        id INTEGER PRIMARY KEY,
                        root_id INTEGER NOT NULL REFERENCES root(id) ON DELETE CASCADE,
                        rel_path TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'image')),
                        mime TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        mtime_ns INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        -- 0: found by the walk, metadata not read yet; 1: metadata read.
                        metadata_state INTEGER NOT NULL DEFAULT 0,
                        title TEXT, artist TEXT, album TEXT, genre TEXT,
                        track INTEGER, year INTEGER, duration_ms INTEGER,
                        width INTEGER, height INTEGER,
                        date_taken TEXT, camera_make TEXT, camera_model TEXT, orientation INTEGER,
                        video_codec TEXT, audio_codec TEXT,
                        -- NULL until the background hasher has read the file; reset whenever size, mtime or inode change.
                        content_id BLOB,
                        -- The catalog generation of the last change to this row (catalog deltas for peers).
                        generation INTEGER NOT NULL,
                        UNIQUE (root_id, rel_path)
                    ) STRICT;
                    CREATE INDEX media_unhashed ON media(id) WHERE content_id IS NULL;
                    CREATE INDEX media_by_content ON media(content_id) WHERE content_id IS NOT NULL;

                    -- Chunk hash lists, shared by every file with the same content.
                    CREATE TABLE manifest (
                        content_id BLOB PRIMARY KEY NOT NULL,
                        file_size INTEGER NOT NULL,
                        chunk_size INTEGER NOT NULL,
                        chunk_hashes BLOB NOT NULL
                    ) WITHOUT ROWID, STRICT;

                    -- Full-text search over titles, artists, albums and the relative path (folder and file names).
                    CREATE VIRTUAL TABLE media_search USING fts5(
                        title, artist, album, rel_path,
                        content='media', content_rowid='id',
                        tokenize="unicode61 remove_diacritics 2 tokenchars '_'"
                    );
                    CREATE TRIGGER media_search_insert AFTER INSERT ON media BEGIN
                        INSERT INTO media_search(rowid, title, artist, album, rel_path)
                        VALUES (new.id, new.title, new.artist, new.album, new.rel_path);
                    END;
                    CREATE TRIGGER media_search_delete AFTER DELETE ON media BEGIN
                        INSERT INTO media_search(media_search, rowid, title, artist, album, rel_path)
                        VALUES ('delete', old.id, old.title, old.artist, old.album, old.rel_path);
                    END;
                    CREATE TRIGGER media_search_update AFTER UPDATE OF title, artist, album, rel_path ON media BEGIN
                        INSERT INTO media_search(media_search, rowid, title, artist, album, rel_path)
                        VALUES ('delete', old.id, old.title, old.artist, old.album, old.rel_path);
                        INSERT INTO media_search(rowid, title, artist, album, rel_path)
                        VALUES (new.id, new.title, new.artist, new.album, new.rel_path);
                    END;

                    INSERT INTO meta(key, value) VALUES ('generation', 0);
                    """)
        }
        migrator.registerMigration("v2: catalog deltas, replicas, remote catalogs") { db in
            try db.execute(
                sql: """
                    -- A random id of this database: a peer that sees it change knows the generations restarted (the
                    -- index was rebuilt) and syncs the whole catalog again.
                    INSERT INTO meta(key, value) VALUES ('catalog_epoch', lower(hex(randomblob(8))));

                    CREATE INDEX media_by_generation ON media(generation);

                    -- Objects that left the catalog, so that a peer syncing by delta learns of the removal. The
                    -- triggers stamp the generation the running write will record (IndexWriter.withNextGeneration
                    -- bumps meta.generation after the rows change).
                    CREATE TABLE tombstone (
                        content_id BLOB PRIMARY KEY NOT NULL,
                        generation INTEGER NOT NULL
                    ) WITHOUT ROWID, STRICT;
                    CREATE INDEX tombstone_by_generation ON tombstone(generation);
                    CREATE TRIGGER media_tombstone_delete AFTER DELETE ON media WHEN old.content_id IS NOT NULL BEGIN
                        INSERT OR REPLACE INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;
                    CREATE TRIGGER media_tombstone_update AFTER UPDATE OF content_id ON media
                    WHEN old.content_id IS NOT NULL AND new.content_id IS NOT old.content_id BEGIN
                        INSERT OR REPLACE INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;

                    -- Objects fetched from peers into cache_dir: partial (the chunks in `have`) or complete. Their
                    -- manifests live in `manifest` beside those of the media files.
                    CREATE TABLE replica (
                        content_id BLOB PRIMARY KEY NOT NULL,
                        complete INTEGER NOT NULL DEFAULT 0,
                        -- Bit i (most significant bit first, as in BitTorrent) set: chunk i is verified and durable.
                        have BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'image')),
                        mime TEXT NOT NULL,
                        name TEXT NOT NULL,
                        title TEXT, artist TEXT, album TEXT,
                        duration_ms INTEGER, width INTEGER, height INTEGER,
                        -- Changes when the replica starts and when it completes, not per chunk, so a download in progress
                        -- does not make every neighbour re-sync the catalog.
                        generation INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_used_at INTEGER NOT NULL
                    ) WITHOUT ROWID, STRICT;
                    CREATE TRIGGER replica_tombstone_delete AFTER DELETE ON replica BEGIN
                        INSERT OR REPLACE INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;

                    -- The catalogs of the neighbours, synced by delta (GET /v1/catalog?since=).
                    CREATE TABLE remote_peer (
                        peer_id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        epoch TEXT,
                        synced_generation INTEGER NOT NULL DEFAULT 0,
                        synced_at INTEGER
                    ) WITHOUT ROWID, STRICT;
                    CREATE TABLE remote_object (
                        id INTEGER PRIMARY KEY,
                        peer_id TEXT NOT NULL REFERENCES remote_peer(peer_id) ON DELETE CASCADE,
                        content_id BLOB NOT NULL,
                        complete INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        mime TEXT NOT NULL,
                        name TEXT NOT NULL,
                        title TEXT, artist TEXT, album TEXT,
                        duration_ms INTEGER, width INTEGER, height INTEGER,
                        UNIQUE (peer_id, content_id)
                    ) STRICT;
                    CREATE INDEX remote_by_content ON remote_object(content_id);
                    CREATE VIRTUAL TABLE remote_search USING fts5(
                        title, artist, album, name,
                        content='remote_object', content_rowid='id',
                        tokenize="unicode61 remove_diacritics 2 tokenchars '_'"
                    );
                    CREATE TRIGGER remote_search_insert AFTER INSERT ON remote_object BEGIN
                        INSERT INTO remote_search(rowid, title, artist, album, name)
                        VALUES (new.id, new.title, new.artist, new.album, new.name);
                    END;
                    CREATE TRIGGER remote_search_delete AFTER DELETE ON remote_object BEGIN
                        INSERT INTO remote_search(remote_search, rowid, title, artist, album, name)
                        VALUES ('delete', old.id, old.title, old.artist, old.album, old.name);
                    END;
                    CREATE TRIGGER remote_search_update AFTER UPDATE ON remote_object BEGIN
                        INSERT INTO remote_search(remote_search, rowid, title, artist, album, name)
                        VALUES ('delete', old.id, old.title, old.artist, old.album, old.name);
                        INSERT INTO remote_search(rowid, title, artist, album, name)
                        VALUES (new.id, new.title, new.artist, new.album, new.name);
                    END;
                    """)
        }
        migrator.registerMigration("v3: tombstone triggers that do not depend on conflict resolution") { db in
            // v2's triggers used INSERT OR REPLACE, but SQLite lets the outer statement's conflict handling override
            // a trigger's: under the scanner's upsert, re-tombstoning a content id failed with a UNIQUE error.
            try db.execute(
                sql: """
                    DROP TRIGGER media_tombstone_delete;
                    DROP TRIGGER media_tombstone_update;
                    DROP TRIGGER replica_tombstone_delete;
                    CREATE TRIGGER media_tombstone_delete AFTER DELETE ON media WHEN old.content_id IS NOT NULL BEGIN
                        DELETE FROM tombstone WHERE content_id = old.content_id;
                        INSERT INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;
                    CREATE TRIGGER media_tombstone_update AFTER UPDATE OF content_id ON media
                    WHEN old.content_id IS NOT NULL AND new.content_id IS NOT old.content_id BEGIN
                        DELETE FROM tombstone WHERE content_id = old.content_id;
                        INSERT INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;
                    CREATE TRIGGER replica_tombstone_delete AFTER DELETE ON replica BEGIN
                        DELETE FROM tombstone WHERE content_id = old.content_id;
                        INSERT INTO tombstone(content_id, generation)
                        VALUES (old.content_id, (SELECT value FROM meta WHERE key = 'generation') + 1);
                    END;
                    """)
        }
        migrator.registerMigration("fetch-crash-count") { db in
            // A fetch that makes the daemon die (out of memory, say) must not be resumed blindly at every restart:
            // `fetch_running` is set while a fetch runs and cleared when it stops cleanly, so a start that finds it
            // set counts a crash in `crash_count`.
            try db.execute(
                sql: """
                    ALTER TABLE replica ADD COLUMN fetch_running INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE replica ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("remote-peer-unseen") { db in
            // Neighbours are forgotten after a time unseen (unseen_since, unix seconds, NULL while seen), and each
            // one's catalog is bounded: the counters, kept by triggers, spare the limit check a scan per page.
            // A row costs 64 bytes plus the UTF-8 bytes of its strings (PeerLimits.catalogRowOverheadBytes).
            let rowBytes = { (row: String) in
                """
                (64 + length(CAST(\(row).mime AS BLOB)) + length(CAST(\(row).name AS BLOB))
                    + coalesce(length(CAST(\(row).title AS BLOB)), 0) + coalesce(length(CAST(\(row).artist AS BLOB)), 0)
                    + coalesce(length(CAST(\(row).album AS BLOB)), 0))
                """
            }
            try db.execute(
                sql: """
                    ALTER TABLE remote_peer ADD COLUMN unseen_since INTEGER;
                    ALTER TABLE remote_peer ADD COLUMN object_count INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE remote_peer ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
                    UPDATE remote_peer SET
                        object_count = (SELECT count(*) FROM remote_object o WHERE o.peer_id = remote_peer.peer_id),
                        byte_count = coalesce(
                            (SELECT sum(\(rowBytes("o"))) FROM remote_object o WHERE o.peer_id = remote_peer.peer_id),
                            0);
                    CREATE TRIGGER remote_count_insert AFTER INSERT ON remote_object BEGIN
                        UPDATE remote_peer
                        SET object_count = object_count + 1, byte_count = byte_count + \(rowBytes("new"))
                        WHERE peer_id = new.peer_id;
                    END;
                    CREATE TRIGGER remote_count_delete AFTER DELETE ON remote_object BEGIN
                        UPDATE remote_peer
                        SET object_count = object_count - 1, byte_count = byte_count - \(rowBytes("old"))
                        WHERE peer_id = old.peer_id;
                    END;
                    CREATE TRIGGER remote_count_update AFTER UPDATE ON remote_object BEGIN
                        UPDATE remote_peer SET byte_count = byte_count - \(rowBytes("old")) + \(rowBytes("new"))
                        WHERE peer_id = new.peer_id;
                    END;
                    """)
        }
        migrator.registerMigration("browse-by-kind-indexes") { db in
            // The DLNA tree lists one kind at a time (Videos, a box's tracks): a TV browsing 200 videos of a home
            // with 20,000 photos reads the videos' rows only, here and in each neighbour's catalog.
            try db.execute(
                sql: """
                    CREATE INDEX media_by_kind ON media(kind, content_id) WHERE content_id IS NOT NULL;
                    CREATE INDEX remote_by_peer_kind ON remote_object(peer_id, kind, complete);
                    """)
        }
        migrator.registerMigration("subtitle-kind") { db in
            // Subtitle files (`Film.srt` beside `Film.mkv`) are indexed as a kind of their own. `media` and `replica`
            // check their kind; SQLite cannot alter a CHECK, but widening one changes nothing stored, so the table
            // definitions are edited in place as SQLite's ALTER TABLE documentation describes (section 7), instead
            // of copying both tables with their triggers and search indexes.
            let old = "CHECK (kind IN ('video', 'audio', 'image'))"
            let new = "CHECK (kind IN ('video', 'audio', 'image', 'subtitle'))"
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name IN (?, ?)",
                arguments: [old, new, "media", "replica"])
            let edited = db.changesCount
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
            guard edited == 2,
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND instr(sql, ?) > 0",
                    arguments: [new]) == 2
            else {
                throw DatabaseError(message: "the media and replica tables do not have the expected kind check")
            }
            db.clearSchemaCache()
            // The subtitles beside a neighbour's video are looked up by name (Catalog.subtitles(forVideos:online:)).
            try db.execute(
                sql: "CREATE INDEX remote_subtitle_by_name ON remote_object(peer_id, name) WHERE kind = 'subtitle'")
        }
        migrator.registerMigration("photo-thumbnails") { db in
            // Whether a photo's EXIF block carries a thumbnail (for a TV's browse view), filled in with the rest of
            // the metadata; the JPEGs indexed before are read again once to learn it.
            try db.execute(
                sql: """
                    ALTER TABLE media ADD COLUMN has_thumbnail INTEGER NOT NULL DEFAULT 0;
                    UPDATE media SET metadata_state = 0 WHERE kind = 'image' AND mime = 'image/jpeg';
                    """)
        }
        migrator.registerMigration("demand-counts") { db in
            // Demand for titles, as decayed counts (a value and the unix time it was the count at): this box's plays,
            // fetches by hand and requests served to other boxes, written in batches; the neighbours' digests of
            // their own demand, forgotten with their catalogs; and how much of the time each neighbour is online
            // lately (decayed seconds seen over decayed seconds known), written on arrivals and departures only.
            try db.execute(
                sql: """
                    CREATE TABLE demand (
                        content_id BLOB PRIMARY KEY NOT NULL,
                        plays REAL NOT NULL DEFAULT 0,
                        fetches REAL NOT NULL DEFAULT 0,
                        served REAL NOT NULL DEFAULT 0,
                        at REAL NOT NULL
                    ) WITHOUT ROWID, STRICT;
                    CREATE TABLE remote_demand (
                        peer_id TEXT NOT NULL REFERENCES remote_peer(peer_id) ON DELETE CASCADE,
                        content_id BLOB NOT NULL,
                        value REAL NOT NULL,
                        at REAL NOT NULL,
                        PRIMARY KEY (peer_id, content_id)
                    ) WITHOUT ROWID, STRICT;
                    ALTER TABLE remote_peer ADD COLUMN demand_generation INTEGER;
                    ALTER TABLE remote_peer ADD COLUMN seen_seconds REAL NOT NULL DEFAULT 0;
                    ALTER TABLE remote_peer ADD COLUMN known_seconds REAL NOT NULL DEFAULT 0;
                    ALTER TABLE remote_peer ADD COLUMN presence_at REAL;
                    ALTER TABLE remote_peer ADD COLUMN present INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("cache-pinned-replicas") { db in
            // A replica the user pinned (`mediapeerctl pin`) is never evicted by automatic replication.
            try db.execute(sql: "ALTER TABLE replica ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("gaps-remote-photo-dates-thumbnails") { db in
            // A neighbour's photo carries its date taken and whether its EXIF block has a thumbnail (catalog
            // entries' dateTaken and hasThumbnail), so Browse by date and a TV's thumbnails cover the whole home.
            // The catalogs stored were synced without them: each is synced again from 0 once, its epoch kept, so
            // nothing is dropped meanwhile and every entry is applied again over its row. The date (19 bytes at
            // most) counts within a row's 64 bytes of overhead in the byte budget.
            try db.execute(
                sql: """
                    ALTER TABLE remote_object ADD COLUMN date_taken TEXT;
                    ALTER TABLE remote_object ADD COLUMN has_thumbnail INTEGER NOT NULL DEFAULT 0;
                    UPDATE remote_peer SET synced_generation = 0;
                    """)
        }
        return migrator
    }
}

import GRDB

/// The versioned schema of the index. Never edit a registered migration: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: roots, media, manifests, search") { db in
            try db.execute(sql: """
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
        return migrator
    }
}

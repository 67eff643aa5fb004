-- A deleted database is remembered past the removal of its storage (removed = 1), so that objects a job still wrote
-- there afterwards are swept: only the storage of databases deleted here is ever swept. The rows of version 1 are
-- removals still pending; deleted_at 0 lets them be forgotten once their storage is found empty.
ALTER TABLE deletions ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deletions ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;

-- The metadata of Strata's backup server on PostgreSQL: the same tables as the embedded SQLite store (SqliteSchema,
-- version 3), shared by every instance. Checksums are signed 64-bit integers, times epoch milliseconds.

CREATE TABLE databases (
  id BIGSERIAL PRIMARY KEY,
  cluster TEXT NOT NULL,
  name TEXT NOT NULL,
  hwm BIGINT NOT NULL DEFAULT 0,
  catalogued INTEGER NOT NULL DEFAULT 0,
  UNIQUE (cluster, name)
);

CREATE TABLE txns (
  db_id BIGINT NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
  min_txid BIGINT NOT NULL,
  max_txid BIGINT NOT NULL,
  page_size INTEGER NOT NULL,
  "commit" BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  pre_apply_checksum BIGINT NOT NULL,
  post_apply_checksum BIGINT NOT NULL,
  PRIMARY KEY (db_id, max_txid)
);

-- Every version of every page received within level-0 retention, plus the newest version of each page.
CREATE TABLE pages (
  db_id BIGINT NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
  pgno BIGINT NOT NULL,
  min_txid BIGINT NOT NULL,
  max_txid BIGINT NOT NULL,
  chksum BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (db_id, pgno, max_txid)
);
-- Database pages rarely compress; storing them as they are saves the CPU of trying.
ALTER TABLE pages ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE compaction_requests (
  db_id BIGINT NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  idempotency_key BIGINT NOT NULL,
  PRIMARY KEY (db_id, level)
);

-- Databases whose rows are gone but whose storage objects may remain (a crash during DELETE).
CREATE TABLE deletions (
  cluster TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (cluster, name)
);

-- The LiteFS cluster ID (Litefs-Cluster-Id) each cluster is bound to.
CREATE TABLE cluster_ids (
  cluster TEXT PRIMARY KEY,
  litefs_cluster_id TEXT NOT NULL
);

-- Which instance runs the storage jobs of a database, until when, and the fencing epoch its commits must carry.
CREATE TABLE leases (
  cluster TEXT NOT NULL,
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (cluster, name)
);

-- The storage files that count: each row committed by the lease holder after its object was written.
CREATE TABLE files (
  db_id BIGINT NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  min_txid BIGINT NOT NULL,
  max_txid BIGINT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  page_size INTEGER NOT NULL,
  "commit" BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  pre_apply_checksum BIGINT NOT NULL,
  post_apply_checksum BIGINT NOT NULL,
  PRIMARY KEY (db_id, level, min_txid, max_txid)
);

package dev.strata.replica.restore;

import java.nio.file.Path;

/**
 * A finished restore.
 *
 * @param checksum the database checksum of the restored file, equal to the plan's last post-apply checksum
 * @param databaseBytes the size of the restored database file
 */
public record RestoreResult(Path path, long txid, long checksum, long databaseBytes) {}
